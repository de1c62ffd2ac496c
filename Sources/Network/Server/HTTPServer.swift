import Glibc
import HTTP1
import Synchronization

/// An HTTP/1.1 server (plain or TLS) on an `EventLoopGroup`: one listening socket per loop
/// (SO_REUSEPORT), each connection served entirely by the loop that accepted it.
///
/// Per connection: the head is read within `HTTPLimits` and the header timeout, the body is
/// buffered up to `maxBodyBytes`, the handler gets the whole request and answers through an
/// `HTTPResponder`. Keep-alive and pipelining are supported; pipelined requests are parsed one
/// at a time, after the previous response is complete, so responses stay in order.
public final class HTTPServer: @unchecked Sendable {
    private enum Lifecycle {
        case created
        case starting
        case running([HTTPServerLoopState])
        case stopping
        case stopped
    }

    public let configuration: HTTPServerConfiguration
    public let group: EventLoopGroup
    private let handler: any HTTPServerHandler
    private let lifecycle = Mutex<Lifecycle>(.created)

    public init(configuration: HTTPServerConfiguration, group: EventLoopGroup, handler: any HTTPServerHandler) {
        self.configuration = configuration
        self.group = group
        self.handler = handler
    }

    /// Binds one listener per loop and starts accepting. Returns the bound port (useful with port 0).
    /// Throws `IOError` when binding fails (port in use, no permission) and when already started.
    @discardableResult
    public func start() throws -> Int {
        // Decide under the lock, bind outside it (binding waits on every loop).
        try lifecycle.withLock { lifecycle in
            guard case .created = lifecycle else { throw IOError(call: "HTTPServer.start", errno: EALREADY) }
            lifecycle = .starting
        }
        var states: [HTTPServerLoopState] = []
        var port = configuration.address.port
        do {
            port = try Listener.exclusivePort(for: configuration.address)
            for loop in group.loops {
                let state = HTTPServerLoopState(loop: loop, configuration: configuration, handler: handler)
                let address = try SocketAddress(host: configuration.address.host, port: port)
                port = try loop.runAndWait { try state.listen(on: address) }
                states.append(state)
            }
        } catch {
            for state in states { try? state.loop.runAndWait { state.closeListener() } }
            lifecycle.withLock { $0 = .created }
            throw error
        }
        lifecycle.withLock { $0 = .running(states) }
        return port
    }

    /// Makes new handshakes use `context`. Connections already open keep the context they started
    /// with and are not disturbed. Each loop switches on its next pass.
    public func reloadTLS(_ context: TLSServerContext) {
        let states: [HTTPServerLoopState] = lifecycle.withLock { lifecycle in
            if case .running(let states) = lifecycle { return states }
            return []
        }
        for state in states {
            let loop = state.loop
            loop.execute { state.tls = context }
        }
    }

    /// Stops accepting, closes idle connections, lets requests in progress finish for up to
    /// `grace`, closes what is left, then calls `completion` (on some loop thread). Calling it again
    /// (or before `start`) just calls `completion` once the server is stopped.
    public func stop(grace: Duration, completion: @escaping @Sendable () -> Void) {
        let states: [HTTPServerLoopState]? = lifecycle.withLock { lifecycle in
            switch lifecycle {
            case .running(let states):
                lifecycle = .stopping
                return states
            case .created, .stopped:
                lifecycle = .stopped
                return []
            case .starting, .stopping:
                return nil
            }
        }
        guard let states else {
            // A start or stop is under way; wait for it to settle.
            waitForStopped(grace: grace, completion)
            return
        }
        guard !states.isEmpty else {
            completion()
            return
        }
        let remaining = Atomic<Int>(states.count)
        let finished: @Sendable () -> Void = { [self] in
            if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                lifecycle.withLock { $0 = .stopped }
                completion()
            }
        }
        for state in states {
            state.loop.execute { state.beginStopping(grace: grace, finished: finished) }
        }
    }

    /// Connections open right now over all loops (asks each loop; for tests and metrics, not for
    /// a hot path). Must not be called from one of the group's loops.
    public func openConnectionCount() -> Int {
        let states: [HTTPServerLoopState] = lifecycle.withLock { lifecycle in
            if case .running(let states) = lifecycle { return states }
            return []
        }
        return states.reduce(0) { total, state in
            total + ((try? state.loop.runAndWait { state.connectionCount }) ?? 0)
        }
    }

    /// Connections open right now on `loop`, without waiting: call it on `loop` itself (a metrics
    /// scrape visits every loop in turn). Zero before `start` and after `stop`.
    public func openConnectionCount(on loop: EventLoop) -> Int {
        precondition(loop.inEventLoop, "openConnectionCount(on:) must be called on the loop it names")
        let state: HTTPServerLoopState? = lifecycle.withLock { lifecycle in
            if case .running(let states) = lifecycle { return states.first { $0.loop === loop } }
            return nil
        }
        return state?.connectionCount ?? 0
    }

    /// Waits (polling on a loop, without blocking it) until a concurrent start or stop settles,
    /// then stops or reports.
    private func waitForStopped(grace: Duration, _ completion: @escaping @Sendable () -> Void) {
        let loop = group.next()
        loop.execute { [self] in
            enum Settled { case stopped, running, busy }
            let settled = lifecycle.withLock { lifecycle -> Settled in
                switch lifecycle {
                case .stopped, .created: .stopped
                case .running: .running
                case .starting, .stopping: .busy
                }
            }
            switch settled {
            case .stopped: completion()
            case .running: stop(grace: grace, completion: completion)
            case .busy: loop.scheduleTimer(after: .milliseconds(10)) { self.waitForStopped(grace: grace, completion) }
            }
        }
    }
}

/// What one loop holds for a server: its listener, the TLS context for new handshakes, and the
/// open connections. Touched only on that loop's thread.
final class HTTPServerLoopState: @unchecked Sendable {
    let loop: EventLoop
    let configuration: HTTPServerConfiguration
    let handler: any HTTPServerHandler
    var tls: TLSServerContext?
    private var listener: Listener?
    private var connections: [ObjectIdentifier: HTTPServerConnection] = [:]
    private var isStopping = false
    private var graceTimer: TimerID?
    private var onDrained: (@Sendable () -> Void)?

    init(loop: EventLoop, configuration: HTTPServerConfiguration, handler: any HTTPServerHandler) {
        self.loop = loop
        self.configuration = configuration
        self.handler = handler
        self.tls = configuration.tls
    }

    var connectionCount: Int { connections.count }

    func listen(on address: SocketAddress) throws(IOError) -> Int {
        let listener = try Listener(address: address, loop: loop, backlog: Int32(clamping: configuration.backlog)) {
            [unowned self] fd, remote in accepted(fd, remote)
        }
        self.listener = listener
        return listener.port
    }

    func closeListener() {
        listener?.close()
        listener = nil
    }

    private func accepted(_ fd: Int32, _ remote: SocketAddress) {
        guard !isStopping else {
            Glibc.close(fd)
            return
        }
        let connection: Connection
        do {
            connection = try Connection(acceptedFD: fd, remoteAddress: remote, loop: loop, tls: tls)
        } catch {
            Glibc.close(fd)
            return
        }
        connection.highWaterMark = configuration.highWaterMark
        connection.lowWaterMark = configuration.lowWaterMark
        connection.writeTimeout = configuration.writeTimeout
        let server = HTTPServerConnection(connection: connection, owner: self)
        connections[ObjectIdentifier(server)] = server
        connection.start(delegate: server)
    }

    func connectionClosed(_ server: HTTPServerConnection) {
        connections.removeValue(forKey: ObjectIdentifier(server))
        if isStopping && connections.isEmpty { finishStopping() }
    }

    func beginStopping(grace: Duration, finished: @escaping @Sendable () -> Void) {
        isStopping = true
        onDrained = finished
        closeListener()
        for server in Array(connections.values) { server.serverStopping() }
        if connections.isEmpty {
            finishStopping()
            return
        }
        graceTimer = loop.scheduleTimer(after: grace) { [self] in
            graceTimer = nil
            for server in Array(connections.values) { server.forceClose() }
        }
    }

    private func finishStopping() {
        if let graceTimer {
            loop.cancelTimer(graceTimer)
            self.graceTimer = nil
        }
        let onDrained = self.onDrained
        self.onDrained = nil
        onDrained?()
    }
}
