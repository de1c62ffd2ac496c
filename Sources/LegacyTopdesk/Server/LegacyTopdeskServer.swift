import Foundation
import HTTP1
import Network
import Synchronization

/// Serves a `LegacyTopdeskSimulator` over sockets: the API listener (plain or TLS) and the
/// loopback control listener, both on one `EventLoopGroup`.
public final class LegacyTopdeskServer: Sendable {
    public let simulator: LegacyTopdeskSimulator
    private let apiServer: HTTPServer
    private let controlServer: HTTPServer
    private let apiAddress: SocketAddress
    private let controlAddress: SocketAddress

    /// - Parameter log: receives one line per API request (nil: no request log).
    public init(simulator: LegacyTopdeskSimulator, api: HostAndPort, control: HostAndPort, tls: TLSServerContext?,
                group: EventLoopGroup, log: (@Sendable (String) -> Void)?) throws {
        self.simulator = simulator
        apiAddress = try SocketAddress(host: api.host, port: api.port)
        controlAddress = try SocketAddress(host: control.host, port: control.port)
        apiServer = HTTPServer(configuration: HTTPServerConfiguration(address: apiAddress, tls: tls), group: group,
                               handler: APIRequestHandler(simulator: simulator, log: log))
        controlServer = HTTPServer(configuration: HTTPServerConfiguration(address: controlAddress), group: group,
                                   handler: ControlRequestHandler(simulator: simulator))
    }

    /// Binds both listeners and answers the addresses actually bound (port 0 becomes a real port).
    public func start() throws -> (api: HostAndPort, control: HostAndPort) {
        let apiPort = try apiServer.start()
        let controlPort: Int
        do {
            controlPort = try controlServer.start()
        } catch {
            apiServer.stop(grace: .zero) {}
            throw error
        }
        return (HostAndPort(host: apiAddress.host, port: apiPort),
                HostAndPort(host: controlAddress.host, port: controlPort))
    }

    /// Stops accepting, lets requests in flight finish for up to `grace`, then calls `completion`.
    public func stop(grace: Duration, completion: @escaping @Sendable () -> Void) {
        let remaining = Mutex(2)
        let finished: @Sendable () -> Void = {
            let last = remaining.withLock { count -> Bool in
                count -= 1
                return count == 0
            }
            if last { completion() }
        }
        apiServer.stop(grace: grace, completion: finished)
        controlServer.stop(grace: grace, completion: finished)
    }
}

/// The API listener: the simulator's answer, delayed and cut short as the faults say.
struct APIRequestHandler: HTTPServerHandler {
    let simulator: LegacyTopdeskSimulator
    let log: (@Sendable (String) -> Void)?

    func handle(_ request: HTTPServerRequest, responder: HTTPResponder) {
        let started = ContinuousClock.now
        let outcome = simulator.handleAPI(SimulatorRequest(head: request.head, body: request.body))
        let log = self.log
        let method = request.head.method, target = request.head.target
        let send = {
            APIRequestHandler.send(outcome, to: responder)
            if let log {
                let elapsed = ContinuousClock.now - started
                let milliseconds = Double(elapsed.components.seconds) * 1000
                    + Double(elapsed.components.attoseconds) / 1e15
                log(SimulatorCommandLine.requestLogLine(
                    method: method, target: target, status: outcome.response.status,
                    bytes: outcome.response.body.count, milliseconds: milliseconds))
            }
        }
        // Latency must not block the loop: answer from a timer instead of sleeping.
        if outcome.delay > .zero {
            request.eventLoop.scheduleTimer(after: outcome.delay, send)
        } else {
            send()
        }
    }

    static func send(_ outcome: SimulatorOutcome, to responder: HTTPResponder) {
        var head = HTTPResponseHead(status: outcome.response.status, headers: outcome.response.headers)
        guard outcome.dropMidResponse else {
            responder.respond(head, body: outcome.response.body)
            return
        }
        // Promise the whole body and send half of it. Ending a response shorter than its
        // Content-Length makes the server close the connection: the client sees it cut short.
        let body = outcome.response.body
        head.headers.replaceOrAdd(name: "Content-Length", value: String(body.count))
        responder.sendHead(head)
        responder.sendBody(Array(body.prefix(body.count / 2)))
        responder.sendEnd()
    }
}

/// The control listener: statistics, restart, faults and the last request.
struct ControlRequestHandler: HTTPServerHandler {
    let simulator: LegacyTopdeskSimulator

    func handle(_ request: HTTPServerRequest, responder: HTTPResponder) {
        let response = simulator.handleControl(SimulatorRequest(head: request.head, body: request.body))
        responder.respond(HTTPResponseHead(status: response.status, headers: response.headers), body: response.body)
    }
}
