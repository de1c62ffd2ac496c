import Foundation
import HTTP1
import Synchronization
import Testing
@testable import Network

@Suite("HTTP server over TLS, reload and stop")
struct HTTPServerTLSTests {
    static func firstContext() throws -> TLSServerContext {
        let certificates = TestCertificates.shared
        return try TLSServerContext(certificateChainFile: certificates.serverChain,
                                    privateKeyFile: certificates.serverKey)
    }

    static func secondContext() throws -> TLSServerContext {
        let certificates = TestCertificates.shared
        return try TLSServerContext(certificateChainFile: certificates.secondServerChain,
                                    privateKeyFile: certificates.secondServerKey)
    }

    static let answerTLS: @Sendable (HTTPServerRequest, HTTPResponder) -> Void = { request, responder in
        responder.respond(.ok(), body: Array("tls=\(request.isTLS) \(request.head.target)".utf8))
    }

    /// Runs a command with a time limit; returns its exit status and standard output.
    static func run(_ arguments: [String], timeout: Double = 10) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test("curl completes a TLS handshake, negotiates http/1.1 through ALPN and gets its answer")
    func curlOverTLS() throws {
        try withServer(tls: Self.firstContext(), handler: Self.answerTLS) { _, port in
            let (status, output) = try Self.run([
                "curl", "--silent", "--show-error", "--max-time", "5", "--cacert", TestCertificates.shared.caFile,
                "--write-out", "\n%{http_version} %{ssl_verify_result}", "https://localhost:\(port)/hello",
            ])
            #expect(status == 0)
            #expect(output == "tls=true /hello\n1.1 0")
        }
    }

    @Test("openssl s_client sees ALPN http/1.1 and TLS 1.3; with -tls1_1 the handshake fails")
    func opensslClient() throws {
        try withServer(tls: Self.firstContext(), handler: Self.answerTLS) { _, port in
            let (_, output) = try Self.run([
                "sh", "-c", "printf 'GET /s HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n' | "
                    + "timeout 5 openssl s_client -connect 127.0.0.1:\(port) -alpn h2,http/1.1 -quiet "
                    + "-CAfile \(TestCertificates.shared.caFile) 2>/dev/null; "
                    + "echo | timeout 5 openssl s_client -connect 127.0.0.1:\(port) -alpn http/1.1 2>/dev/null "
                    + "| grep -E 'ALPN protocol|^New, '",
            ])
            #expect(output.contains("tls=true /s"))
            #expect(output.contains("ALPN protocol: http/1.1"))
            #expect(output.contains("TLSv1.3"))
            let (status, _) = try Self.run([
                "sh", "-c", "echo | timeout 5 openssl s_client -connect 127.0.0.1:\(port) -tls1_1 "
                    + "-cipher DEFAULT@SECLEVEL=0 2>&1 "
                    + "| grep -q 'Cipher is (NONE)\\|alert protocol version\\|no protocols'",
            ])
            #expect(status == 0)
        }
    }

    @Test("reloadTLS keeps an open connection working while new connections see the new certificate")
    func reload() throws {
        try withServer(tls: Self.firstContext(), handler: Self.answerTLS) { server, port in
            let ca = TestCertificates.shared.caFile
            let open = try RawHTTPClient(port: port, tlsCAFile: ca)
            #expect(open.peerCommonName == "first")
            try open.send("GET /before HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try open.readResponse().text == "tls=true /before")

            server.reloadTLS(try Self.secondContext())
            // Each loop switches on its next pass; give them a moment.
            var sawSecond = false
            for _ in 0..<50 where !sawSecond {
                let fresh = try RawHTTPClient(port: port, tlsCAFile: ca)
                if fresh.peerCommonName == "second" {
                    sawSecond = true
                    try fresh.send("GET /new HTTP/1.1\r\nHost: x\r\n\r\n")
                    #expect(try fresh.readResponse().text == "tls=true /new")
                }
                usleep(20_000)
            }
            #expect(sawSecond)
            // With two loops both must have switched: several new connections all see "second".
            for _ in 0..<6 {
                #expect(try RawHTTPClient(port: port, tlsCAFile: ca).peerCommonName == "second")
            }
            try open.send("GET /after HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try open.readResponse().text == "tls=true /after")
            #expect(open.peerCommonName == "first")
        }
    }

    @Test("stop lets an in-flight request finish, closes idle connections, refuses new ones, then completes")
    func gracefulStop() throws {
        let group = EventLoopGroup(loopCount: 2)
        defer { group.shutdown() }
        let server = HTTPServer(
            configuration: HTTPServerConfiguration(address: try SocketAddress(host: "127.0.0.1", port: 0)),
            group: group,
            handler: ClosureHandler { request, responder in
                let delay: Duration = request.head.target == "/slow" ? .milliseconds(400) : .zero
                request.eventLoop.scheduleTimer(after: delay) {
                    responder.respond(.ok(), body: Array(request.head.target.utf8))
                }
            })
        let port = try server.start()
        let idle = try RawHTTPClient(port: port)
        try idle.send("GET /first HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try idle.readResponse().text == "/first")
        let busy = try RawHTTPClient(port: port)
        try busy.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        usleep(100_000)

        let stopped = Waiter<Bool>()
        let start = ContinuousClock.now
        server.stop(grace: .seconds(5)) { stopped.record(true) }
        #expect(idle.readsEOF())
        let response = try busy.readResponse()
        #expect(response.text == "/slow")
        #expect(response.head.headers.first(name: "Connection") == "close")
        #expect(busy.readsEOF())
        #expect(stopped.wait(timeout: 5) == [true])
        #expect(ContinuousClock.now - start < .seconds(4))
        #expect(throws: RawHTTPClient.Failure.self) { try RawHTTPClient(port: port) }
    }

    @Test("stop closes requests still running when the grace period ends")
    func stopAfterGrace() throws {
        let group = EventLoopGroup(loopCount: 1)
        defer { group.shutdown() }
        let closedMidResponse = Waiter<Bool>()
        let server = HTTPServer(
            configuration: HTTPServerConfiguration(address: try SocketAddress(host: "127.0.0.1", port: 0)),
            group: group,
            handler: ClosureHandler { _, responder in
                // Never answers; learns that the client connection went away.
                responder.observer = ClosureResponderObserver(lostClient: { closedMidResponse.record(true) })
            })
        let port = try server.start()
        let client = try RawHTTPClient(port: port)
        try client.send("GET /forever HTTP/1.1\r\nHost: x\r\n\r\n")
        usleep(50_000)
        let stopped = Waiter<Bool>()
        let start = ContinuousClock.now
        server.stop(grace: .milliseconds(200)) { stopped.record(true) }
        #expect(stopped.wait(timeout: 5) == [true])
        #expect(ContinuousClock.now - start >= .milliseconds(200))
        #expect(closedMidResponse.wait(timeout: 1) == [true])
        #expect(client.readsEOF())
        // A second stop reports at once.
        let again = Waiter<Bool>()
        server.stop(grace: .seconds(1)) { again.record(true) }
        #expect(again.wait(timeout: 2) == [true])
    }
}
