import Glibc
import Testing
@testable import Network

/// TLS reads with read-ahead: one `read(2)` may bring several records, and a short one proves the
/// socket empty so no read is spent on EAGAIN.
@Suite("TLS read-ahead")
struct TLSReadAheadTests {
    @Test("pipelined requests sent as separate TLS records in one burst are all answered, in order")
    func pipelinedRecords() throws {
        try withServer(tls: HTTPServerTLSTests.firstContext(), handler: HTTPServerTests.echoPath) { _, port in
            let client = try RawHTTPClient(port: port, tlsCAFile: TestCertificates.shared.caFile)
            // One SSL_write, so one record, per request; they reach the server's socket together.
            let count = 40
            for index in 0..<count { try client.send(HTTPServerTests.get("/p\(index)")) }
            let bodies = try (0..<count).map { _ in try client.readResponse().text }
            #expect(bodies == (0..<count).map { "/p\($0)" })
        }
    }

    @Test("records larger than one read arrive intact when they come in a burst")
    func largeBurst() throws {
        let body = ConnectionTests.pattern(200_000)
        try withServer(tls: HTTPServerTLSTests.firstContext(), handler: HTTPServerTests.echoPath) { _, port in
            let client = try RawHTTPClient(port: port, tlsCAFile: TestCertificates.shared.caFile)
            let head = "POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: \(body.count)\r\n\r\n"
            try client.send(Array(head.utf8) + body + Array(HTTPServerTests.get("/after").utf8))
            #expect(try client.readResponse().text == "/upload \(body.count)")
            #expect(try client.readResponse().text == "/after")
        }
    }

    @Test("a TLS read that empties the socket is not followed by a read that finds it empty")
    func noReadAfterShortRead() throws {
        let certificates = TestCertificates.shared
        let group = EventLoopGroup(loopCount: 2)
        defer { group.shutdown() }
        let serverLoop = group.loops[0]
        let serverContext = try TLSServerContext(certificateChainFile: certificates.serverChain,
                                                 privateKeyFile: certificates.serverKey)
        let accepted = Waiter<Unchecked<Connection>>()
        let port = try serverLoop.runAndWait {
            let address = try SocketAddress(host: "127.0.0.1", port: 0)
            let listener = try Listener(address: address, loop: serverLoop) { fd, remote in
                let connection = try! Connection(acceptedFD: fd, remoteAddress: remote, loop: serverLoop,
                                                 tls: serverContext)
                connection.start(delegate: EchoHandler())
                accepted.record(Unchecked(connection))
            }
            return listener.port
        }
        let client = try RawHTTPClient(port: port, tlsCAFile: certificates.caFile)
        guard let server = accepted.wait().first?.value else {
            Issue.record("no connection accepted")
            return
        }
        // Let the server finish with the handshake's last flight before counting.
        try client.send("hello")
        #expect(try client.receive() == Array("hello".utf8))
        for round in 0..<10 {
            let before = try serverLoop.runAndWait { server.inputCallCount }
            let message = Array("message \(round)".utf8)
            try client.send(message)
            #expect(try client.receive() == message)
            let after = try serverLoop.runAndWait { server.inputCallCount }
            #expect(after - before == 1, "round \(round): \(after - before) reads for one record")
        }
    }
}
