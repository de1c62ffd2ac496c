import CSystem
import HTTP1
import Synchronization
import Testing
@testable import Network

/// Drives many TLS client connections on one client loop, a bounded number of handshakes at once.
private final class LoadDriver: @unchecked Sendable {
    let loop: EventLoop
    let indices: [Int]
    let address: SocketAddress
    let tls: TLSClientContext
    let connected: Waiter<Int>
    let answered: Waiter<Int>
    let failed: Waiter<String>
    var clients: [LoadClient] = []
    var nextToStart = 0
    var handshaking = 0
    static let handshakeWindow = 200

    init(loop: EventLoop, indices: [Int], address: SocketAddress, tls: TLSClientContext,
         connected: Waiter<Int>, answered: Waiter<Int>, failed: Waiter<String>) {
        self.loop = loop
        self.indices = indices
        self.address = address
        self.tls = tls
        self.connected = connected
        self.answered = answered
        self.failed = failed
    }

    func startMore() {
        while handshaking < Self.handshakeWindow && nextToStart < indices.count {
            let client = LoadClient(index: indices[nextToStart], driver: self)
            nextToStart += 1
            handshaking += 1
            clients.append(client)
            client.connection = Connection.connect(to: address, on: loop, tls: tls, serverName: "localhost",
                                                   timeout: .seconds(30), delegate: client)
        }
    }

    func sendRequests() {
        for client in clients {
            client.parser.expectResponse(toMethod: "GET")
            client.connection?.write(Array("GET /\(client.index) HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))
        }
    }

    func closeAll() {
        for client in clients { client.connection?.close(.immediately) }
        clients = []
    }
}

private final class LoadClient: ConnectionDelegate {
    let index: Int
    unowned let driver: LoadDriver
    var connection: Connection?
    var parser = HTTPResponseParser()
    var body: [UInt8] = []

    init(index: Int, driver: LoadDriver) {
        self.index = index
        self.driver = driver
    }

    func connectionDidConnect(_ connection: Connection) {
        driver.handshaking -= 1
        driver.connected.record(index)
        driver.startMore()
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        do {
            _ = try parser.parse(bytes) { event in
                switch event {
                case .body(let chunk): body.append(contentsOf: chunk)
                case .end:
                    if String(decoding: body, as: UTF8.self) == "answer \(index)" { driver.answered.record(index) }
                case .head, .informational: break
                }
                return .proceed
            }
        } catch {
            driver.failed.record("parse: \(error)")
        }
    }

    func connectionDidClose(_ connection: Connection, error: ConnectionError?) {
        if let error { driver.failed.record("\(index): \(error)") }
        self.connection = nil
    }
}

@Suite("Load", .serialized)
struct ConcurrentTLSLoadTests {
    @Test("5,000 concurrent idle TLS connections each still get an answer", .timeLimit(.minutes(1)))
    func fiveThousandIdleTLSConnections() throws {
        let total = 5000
        let limit = tb_raise_open_file_limit()
        try #require(limit >= 2 * total + 200, "open file limit \(limit) is too low")
        let certificates = TestCertificates.shared
        let start = ContinuousClock.now

        let serverGroup = EventLoopGroup(loopCount: 2)
        defer { serverGroup.shutdown() }
        var configuration = HTTPServerConfiguration(
            address: try SocketAddress(host: "127.0.0.1", port: 0),
            tls: try TLSServerContext(certificateChainFile: certificates.serverChain,
                                      privateKeyFile: certificates.serverKey))
        configuration.headerTimeout = .seconds(55)
        configuration.idleTimeout = .seconds(55)
        let handler = ClosureHandler { request, responder in
            responder.respond(.ok(), body: Array("answer \(request.head.target.dropFirst())".utf8))
        }
        let server = HTTPServer(configuration: configuration, group: serverGroup, handler: handler)
        let port = try server.start()
        defer {
            let stopped = Waiter<Bool>()
            server.stop(grace: .seconds(1)) { stopped.record(true) }
            stopped.wait(timeout: 5)
        }

        let clientGroup = EventLoopGroup(loopCount: 2)
        defer { clientGroup.shutdown() }
        let clientTLS = try TLSClientContext(caFile: certificates.caFile)
        let address = try SocketAddress(host: "127.0.0.1", port: port)
        let connected = Waiter<Int>(), answered = Waiter<Int>(), failed = Waiter<String>()
        let drivers = clientGroup.loops.enumerated().map { offset, loop in
            LoadDriver(loop: loop, indices: Array(stride(from: offset, to: total, by: clientGroup.loops.count)),
                       address: address, tls: clientTLS, connected: connected, answered: answered, failed: failed)
        }
        for driver in drivers { driver.loop.execute { driver.startMore() } }
        defer {
            for driver in drivers { try? driver.loop.runAndWait { driver.closeAll() } }
        }

        #expect(connected.wait(for: total, timeout: 40).count == total, "failures: \(failed.current.prefix(5))")
        #expect(server.openConnectionCount() == total)
        let connectedAfter = ContinuousClock.now - start

        for driver in drivers { driver.loop.execute { driver.sendRequests() } }
        let answers = answered.wait(for: total, timeout: 30)
        #expect(answers.count == total)
        #expect(Set(answers).count == total)
        #expect(failed.current.isEmpty, "failures: \(failed.current.prefix(5))")
        let answeredAfter = ContinuousClock.now - start
        print("\(total) TLS connections: connected after \(connectedAfter), all answered after \(answeredAfter)")
    }
}
