/// The keep-alive pool of one event loop for one upstream, as a pure state machine: who is
/// connecting, idle or leased, who waits, and what to do next. Time comes in as monotonic
/// nanoseconds; actions are appended to a caller-owned buffer so the request path allocates nothing.
///
/// Rules:
/// - At most `maxConnections` connections exist (connecting, idle and leased together).
/// - Requests wait in FIFO order. An idle connection goes to the oldest waiter it can serve; the most
///   recently used idle connection is taken first, so a surplus of idle connections ages out.
/// - A waiter never waits longer than `queueTimeout`, then fails with `.timeout`.
/// - A new connection is started while waiters outnumber the connections being established.
/// - A connection that fails to connect fails the oldest waiter: a fresh connection's failure says
///   the upstream is unwell, and waiting would not change that.
/// - A request that failed on a reused connection before any response byte goes back to the front
///   of the queue once, marked to need a fresh connection (see `shouldRetry`).
/// - Idle connections are closed `idleTimeout` after they were released.
struct HTTPClientPoolStateMachine<Request> {
    typealias ConnectionID = Int

    struct Configuration: Sendable {
        var maxConnections: Int
        var idleTimeoutNanoseconds: UInt64
        var queueTimeoutNanoseconds: UInt64
    }

    enum Action {
        case createConnection(ConnectionID)
        case startRequest(Request, on: ConnectionID, connectionWasReused: Bool)
        case closeConnection(ConnectionID)
        case failRequest(Request, HTTPClientError)
    }

    private enum Phase { case connecting, idle, leased }

    private struct Slot {
        var phase: Phase
        var hasServedRequest: Bool
    }

    private struct IdleConnection {
        var id: ConnectionID
        var idleSince: UInt64
        var hasServedRequest: Bool
    }

    private struct Waiter {
        var request: Request
        var deadline: UInt64
        var needsFreshConnection: Bool
    }

    let configuration: Configuration
    private var slots: [ConnectionID: Slot] = [:]
    /// Ordered by `idleSince`, oldest first.
    private var idle: [IdleConnection] = []
    private var waiters = HTTPClientWaiterQueue<Waiter>()
    private var connectingCount = 0
    private var nextConnectionID = 0
    private(set) var isShutDown = false

    init(configuration: Configuration) {
        precondition(configuration.maxConnections > 0, "a pool needs room for one connection")
        self.configuration = configuration
        slots.reserveCapacity(configuration.maxConnections)
        idle.reserveCapacity(configuration.maxConnections)
    }

    // MARK: Observation

    var connectionCount: Int { slots.count }
    var idleCount: Int { idle.count }
    var connectingConnectionCount: Int { connectingCount }
    var leasedCount: Int { slots.count - idle.count - connectingCount }
    var waiterCount: Int { waiters.count }
    /// True after shutdown once every connection is gone.
    var isDrained: Bool { isShutDown && slots.isEmpty }

    /// The earliest moment at which `expire(now:into:)` has something to do.
    var nextDeadline: UInt64? {
        var earliest: UInt64? = idle.first.map { $0.idleSince &+ configuration.idleTimeoutNanoseconds }
        waiters.forEach { waiter in
            if earliest.map({ waiter.deadline < $0 }) ?? true { earliest = waiter.deadline }
        }
        return earliest
    }

    // MARK: Events

    mutating func execute(_ request: Request, now: UInt64, into actions: inout [Action]) {
        guard !isShutDown else {
            actions.append(.failRequest(request, HTTPClientError(kind: .poolClosed, detail: "the client is shut down")))
            return
        }
        // The common case: nobody waits and a connection is idle.
        if waiters.isEmpty, let connection = idle.popLast() {
            lease(connection, to: request, into: &actions)
            return
        }
        waiters.append(Waiter(request: request, deadline: now &+ configuration.queueTimeoutNanoseconds,
                              needsFreshConnection: false))
        assignAndGrow(into: &actions)
    }

    mutating func connectionEstablished(_ id: ConnectionID, now: UInt64, into actions: inout [Action]) {
        guard var slot = slots[id], slot.phase == .connecting else { return }
        connectingCount -= 1
        if isShutDown {
            slots[id] = nil
            actions.append(.closeConnection(id))
            return
        }
        slot.phase = .idle
        slots[id] = slot
        idle.append(IdleConnection(id: id, idleSince: now, hasServedRequest: false))
        assignAndGrow(into: &actions)
    }

    mutating func connectionFailedToConnect(_ id: ConnectionID, error: HTTPClientError,
                                            into actions: inout [Action]) {
        guard let slot = slots[id], slot.phase == .connecting else { return }
        connectingCount -= 1
        slots[id] = nil
        if let waiter = waiters.popFirst() {
            actions.append(.failRequest(waiter.request, error))
        }
        assignAndGrow(into: &actions)
    }

    /// A leased connection finished its exchange and may carry another.
    mutating func connectionReleased(_ id: ConnectionID, now: UInt64, into actions: inout [Action]) {
        guard var slot = slots[id], slot.phase == .leased else { return }
        if isShutDown {
            slots[id] = nil
            actions.append(.closeConnection(id))
            return
        }
        slot.phase = .idle
        slot.hasServedRequest = true
        slots[id] = slot
        idle.append(IdleConnection(id: id, idleSince: now, hasServedRequest: true))
        assignAndGrow(into: &actions)
    }

    /// The connection closed itself: it went bad while idle, or its response said it was the last.
    /// A leased connection whose request failed goes through `requestFailed` instead.
    mutating func connectionClosed(_ id: ConnectionID, into actions: inout [Action]) {
        guard let slot = slots.removeValue(forKey: id) else { return }
        switch slot.phase {
        case .connecting: connectingCount -= 1
        case .idle: idle.removeAll { $0.id == id }
        case .leased: break
        }
        assignAndGrow(into: &actions)
    }

    /// The idle connection just leased to `request` turned out to be closed or readable (checked
    /// before the request is written): it is forgotten and the request goes back to the front of the
    /// queue, as if it had never been taken out. Nothing was sent, so this is not a retry.
    mutating func leasedConnectionWasStale(_ id: ConnectionID, request: Request, now: UInt64,
                                           into actions: inout [Action]) {
        guard let slot = slots[id], slot.phase == .leased else { return }
        slots[id] = nil
        waiters.prepend(Waiter(request: request, deadline: now &+ configuration.queueTimeoutNanoseconds,
                               needsFreshConnection: false))
        if isShutDown {
            let waiter = waiters.popFirst()!
            actions.append(.failRequest(waiter.request, HTTPClientError(kind: .poolClosed,
                                                                        detail: "the client is shut down")))
        }
        assignAndGrow(into: &actions)
    }

    /// The exchange of `request` on connection `id` failed and the connection closed itself.
    /// Returns whether the request was queued again for a retry on a fresh connection.
    @discardableResult
    /// `requestIsIdempotent` and `requestBytesWereSent` default to the safe-to-resend case; the
    /// connection passes what it knows.
    mutating func requestFailed(_ request: Request, on id: ConnectionID, error: HTTPClientError,
                                connectionWasReused: Bool, alreadyRetried: Bool,
                                requestIsIdempotent: Bool = true, requestBytesWereSent: Bool = false,
                                now: UInt64, into actions: inout [Action]) -> Bool {
        if let slot = slots.removeValue(forKey: id), slot.phase == .idle {
            idle.removeAll { $0.id == id }
        }
        let retry = !isShutDown && Self.shouldRetry(error: error, connectionWasReused: connectionWasReused,
                                                    alreadyRetried: alreadyRetried,
                                                    requestIsIdempotent: requestIsIdempotent,
                                                    requestBytesWereSent: requestBytesWereSent)
        if retry {
            waiters.prepend(Waiter(request: request, deadline: now &+ configuration.queueTimeoutNanoseconds,
                                   needsFreshConnection: true))
        } else {
            actions.append(.failRequest(request, error))
        }
        assignAndGrow(into: &actions)
        return retry
    }

    /// Closes idle connections past their idle timeout and fails waiters past their deadline.
    mutating func expire(now: UInt64, into actions: inout [Action]) {
        while let oldest = idle.first, oldest.idleSince &+ configuration.idleTimeoutNanoseconds <= now {
            idle.removeFirst()
            slots[oldest.id] = nil
            actions.append(.closeConnection(oldest.id))
        }
        let expired = waiters.removeAll { $0.deadline <= now }
        for waiter in expired {
            actions.append(.failRequest(waiter.request, HTTPClientError(
                kind: .timeout, detail: "no upstream connection became free within the queue timeout")))
        }
        assignAndGrow(into: &actions)
    }

    /// Fails every waiter, closes idle connections, and closes the others as they come back.
    mutating func shutdown(into actions: inout [Action]) {
        guard !isShutDown else { return }
        isShutDown = true
        while let waiter = waiters.popFirst() {
            actions.append(.failRequest(waiter.request, HTTPClientError(kind: .poolClosed,
                                                                        detail: "the client is shut down")))
        }
        for connection in idle {
            slots[connection.id] = nil
            actions.append(.closeConnection(connection.id))
        }
        idle.removeAll()
    }

    // MARK: Decisions

    /// Whether a failed request goes out again: only when the connection had carried an earlier
    /// exchange (so the failure is most likely the upstream having closed it while idle), no byte of
    /// the response arrived (so nothing reached the caller), the connection was closed or reset
    /// rather than slow (a timeout means the upstream got the request and is busy), and the request
    /// was not already a retry. A fresh connection's failure is never retried.
    ///
    /// A non-idempotent request (RFC 9110 section 9.2.2: anything but GET, HEAD, OPTIONS, TRACE,
    /// PUT and DELETE) goes out again only when not one of its bytes reached the socket: once the
    /// upstream may have read it, a resent POST can create a second incident. Net/http in Go draws
    /// the same line.
    static func shouldRetry(error: HTTPClientError, connectionWasReused: Bool, alreadyRetried: Bool,
                            requestIsIdempotent: Bool = true, requestBytesWereSent: Bool = false) -> Bool {
        guard connectionWasReused, !alreadyRetried, !error.receivedResponseBytes else { return false }
        guard requestIsIdempotent || !requestBytesWereSent else { return false }
        switch error.kind {
        case .connectionClosed: return true
        case .connectFailed, .tlsFailed, .timeout, .protocolError, .poolClosed: return false
        }
    }

    /// RFC 9110 section 9.2.2: methods whose repetition has the effect of one request.
    static func isIdempotent(method: String) -> Bool {
        switch method {
        case "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE": return true
        default: return false
        }
    }

    // MARK: Steps

    private mutating func lease(_ connection: IdleConnection, to request: Request, into actions: inout [Action]) {
        slots[connection.id]?.phase = .leased
        actions.append(.startRequest(request, on: connection.id, connectionWasReused: connection.hasServedRequest))
    }

    /// Hands idle connections to the waiters they can serve, then starts connections for the rest.
    private mutating func assignAndGrow(into actions: inout [Action]) {
        guard !isShutDown else { return }
        if !idle.isEmpty, !waiters.isEmpty {
            var index = 0
            while index < waiters.count, !idle.isEmpty {
                let waiter = waiters[index]
                let pick = waiter.needsFreshConnection
                    ? idle.lastIndex { !$0.hasServedRequest }
                    : idle.indices.last
                if let pick {
                    let connection = idle.remove(at: pick)
                    waiters.remove(at: index)
                    lease(connection, to: waiter.request, into: &actions)
                } else {
                    index += 1
                }
            }
        }
        // Every waiter left is unserved; each connection being established will serve one.
        while waiters.count > connectingCount {
            if slots.count >= configuration.maxConnections {
                // Idle connections left here cannot serve the waiters (they need fresh ones):
                // close the oldest to make room.
                guard !idle.isEmpty else { break }
                let oldest = idle.removeFirst()
                slots[oldest.id] = nil
                actions.append(.closeConnection(oldest.id))
            }
            let id = nextConnectionID
            nextConnectionID += 1
            slots[id] = Slot(phase: .connecting, hasServedRequest: false)
            connectingCount += 1
            actions.append(.createConnection(id))
        }
    }
}
