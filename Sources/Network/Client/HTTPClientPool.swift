import HTTP1

/// The keep-alive pool of one upstream on one event loop. Loop-confined: every method runs on
/// `loop`, so the pool needs no lock. It feeds `HTTPClientPoolStateMachine` and performs its actions:
/// starting connections, handing requests to them, closing them, failing requests.
final class HTTPClientPool {
    typealias Machine = HTTPClientPoolStateMachine<HTTPClientRequest>

    let loop: EventLoop
    let settings: HTTPClientConnectionSettings
    private var machine: Machine
    private var connections: [Machine.ConnectionID: HTTPClientConnection] = [:]
    /// Reused for every event; actions appended while earlier ones run are run by the same pass.
    private var actions: [Machine.Action] = []
    private var isRunningActions = false
    private var timer: TimerID?
    private var timerDeadline: UInt64 = .max

    init(loop: EventLoop, settings: HTTPClientConnectionSettings, configuration: HTTPClientConfiguration) {
        self.loop = loop
        self.settings = settings
        machine = Machine(configuration: .init(
            maxConnections: max(1, configuration.maxConnectionsPerLoop),
            idleTimeoutNanoseconds: configuration.idleTimeout.nanoseconds,
            queueTimeoutNanoseconds: configuration.effectiveQueueTimeout.nanoseconds))
        actions.reserveCapacity(8)
        connections.reserveCapacity(max(1, configuration.maxConnectionsPerLoop))
    }

    // MARK: Observation (tests and metrics)

    var connectionCount: Int { machine.connectionCount }
    var idleConnectionCount: Int { machine.idleCount }
    var waiterCount: Int { machine.waiterCount }

    // MARK: From the client

    func execute(_ request: HTTPClientRequest) {
        machine.execute(request, now: loop.now, into: &actions)
        runActions()
    }

    func shutdown() {
        machine.shutdown(into: &actions)
        runActions()
    }

    // MARK: From connections

    func connectionEstablished(_ connection: HTTPClientConnection) {
        machine.connectionEstablished(connection.id, now: loop.now, into: &actions)
        runActions()
    }

    func connectionFailedToConnect(_ connection: HTTPClientConnection, error: HTTPClientError) {
        connections[connection.id] = nil
        machine.connectionFailedToConnect(connection.id, error: error, into: &actions)
        runActions()
    }

    func connectionReleased(_ connection: HTTPClientConnection) {
        machine.connectionReleased(connection.id, now: loop.now, into: &actions)
        runActions()
    }

    func connectionClosed(_ connection: HTTPClientConnection) {
        connections[connection.id] = nil
        machine.connectionClosed(connection.id, into: &actions)
        runActions()
    }

    /// The exchange failed and `connection` closed itself. The delegate hears of it only when the
    /// request is not going to be retried.
    func requestFailed(_ request: HTTPClientRequest, on connection: HTTPClientConnection,
                       error: HTTPClientError, connectionWasReused: Bool, requestBytesWereSent: Bool) {
        connections[connection.id] = nil
        let retried = machine.requestFailed(request, on: connection.id, error: error,
                                            connectionWasReused: connectionWasReused,
                                            alreadyRetried: request.hasBeenRetried,
                                            requestIsIdempotent: Machine.isIdempotent(method: request.method),
                                            requestBytesWereSent: requestBytesWereSent,
                                            now: loop.now, into: &actions)
        if retried { request.hasBeenRetried = true }
        runActions()
    }

    // MARK: Acting

    private func runActions() {
        // Actions may cause events (a connection failing at once, a delegate executing another
        // request); those append to the same buffer and this pass runs them in order.
        guard !isRunningActions else { return }
        isRunningActions = true
        var index = 0
        while index < actions.count {
            let action = actions[index]
            index += 1
            perform(action)
        }
        actions.removeAll(keepingCapacity: true)
        isRunningActions = false
        rescheduleTimer()
    }

    private func perform(_ action: Machine.Action) {
        switch action {
        case .createConnection(let id):
            let connection = HTTPClientConnection(id: id, pool: self)
            connections[id] = connection
            connection.connect()

        case .startRequest(let request, let id, let connectionWasReused):
            guard let connection = connections[id] else {
                preconditionFailure("the pool leased connection \(id), which it does not hold")
            }
            // A connection that idled may have been closed by the upstream a moment ago, before
            // its end of input was seen; nothing was sent yet, so the request just takes another.
            // Only a request that could not be retried pays a system call to look.
            let probe = !Machine.isIdempotent(method: request.method)
            if connectionWasReused, !connection.isStillUsable(probingSocket: probe) {
                connections[id] = nil
                connection.closeWithoutNotifying()
                machine.leasedConnectionWasStale(id, request: request, now: loop.now, into: &actions)
                return
            }
            connection.startRequest(request, connectionWasReused: connectionWasReused)

        case .closeConnection(let id):
            connections.removeValue(forKey: id)?.closeWithoutNotifying()

        case .failRequest(let request, let error):
            request.delegate.responseFailed(error)
        }
    }

    /// Keeps one timer at the pool's next deadline (idle eviction, queue timeout). A timer that
    /// is already due earlier is kept: it reschedules when it fires.
    private func rescheduleTimer() {
        guard let deadline = machine.nextDeadline else { return }
        if timer != nil, timerDeadline <= deadline { return }
        if let timer { loop.cancelTimer(timer) }
        timerDeadline = deadline
        let delay = deadline > loop.now ? deadline - loop.now : 0
        // A strong capture, not a weak one (a side table would slow every retain of the pool): the
        // timer runs only while the pool has a deadline, so it keeps a shut-down pool no longer
        // than one firing.
        timer = loop.scheduleTimer(after: .nanoseconds(Int64(min(delay, UInt64(Int64.max))))) { [self] in
            timer = nil
            timerDeadline = .max
            machine.expire(now: loop.now, into: &actions)
            runActions()
        }
    }
}
