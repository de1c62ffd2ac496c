import COpenSSL
import Foundation
import Glibc
import Testing
@testable import Network

@Suite("TLS session resumption and client certificates")
struct TLSSessionFeatureTests {
    @Test("session tickets let a TLS 1.3 client resume its session, and a reload starts fresh tickets")
    func ticketResumption() throws {
        let certificates = TestCertificates.shared
        try withServer(loops: 1, tls: HTTPServerTLSTests.firstContext(), handler: { _, responder in
            responder.respond(.ok(), body: Array("hi".utf8))
        }) { server, port in
            // TLS 1.3 tickets arrive after the handshake; reading a response takes them in.
            let first = try RawHTTPClient(port: port, tlsCAFile: certificates.caFile)
            try first.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try first.readResponse().text == "hi")
            #expect(!first.sessionWasReused)
            let session = try #require(first.session)
            defer { SSL_SESSION_free(session) }

            let resumed = try RawHTTPClient(port: port, tlsCAFile: certificates.caFile, resuming: session)
            #expect(resumed.sessionWasReused)
            try resumed.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try resumed.readResponse().text == "hi")

            // A new context has new ticket keys: the old ticket no longer resumes.
            server.reloadTLS(try HTTPServerTLSTests.secondContext())
            usleep(50_000)
            let afterReload = try RawHTTPClient(port: port, tlsCAFile: certificates.caFile, resuming: session)
            #expect(!afterReload.sessionWasReused)
            #expect(afterReload.peerCommonName == "second")
        }
    }

    @Test("a client certificate is presented to an upstream that requires one")
    func clientCertificate() throws {
        let certificates = TestCertificates.shared
        let group = EventLoopGroup(loopCount: 1)
        defer { group.shutdown() }
        // Find a free port, then let `openssl s_server` (requiring a client certificate) take it.
        let port = try group.loops[0].runAndWait {
            let address = try SocketAddress(host: "127.0.0.1", port: 0)
            let listener = try Listener(address: address, loop: group.loops[0]) { fd, _ in Glibc.close(fd) }
            defer { listener.close() }
            return listener.port
        }
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        server.arguments = ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", certificates.serverChain,
                            "-key", certificates.serverKey, "-CAfile", certificates.caFile, "-Verify", "1",
                            "-www", "-naccept", "2", "-quiet"]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer {
            if server.isRunning { server.terminate() }
            server.waitUntilExit()
        }
        // Wait for it to listen.
        for _ in 0..<100 {
            if (try? RawHTTPClient(port: port, timeoutSeconds: 1)) != nil { break }
            usleep(20_000)
        }

        let withCertificate = try TLSClientContext(
            caFile: certificates.caFile, certificateFile: certificates.clientChain,
            privateKeyFile: certificates.clientKey)
        let (client, _) = try ConnectionTests.connectClient(
            group: group, port: port, tls: withCertificate, serverName: "localhost",
            send: Array("GET / HTTP/1.0\r\n\r\n".utf8))
        #expect(client.connected.wait().first == true)
        #expect(client.closed.wait(timeout: 10).count == 1)
        let page = String(decoding: client.bytes, as: UTF8.self)
        #expect(page.contains("200 ok"))
        #expect(page.contains("test-client"))
    }

    @Test("a client certificate without its key, or with the wrong key, is refused at setup")
    func clientCertificateSetup() {
        let certificates = TestCertificates.shared
        #expect(throws: TLSError.self) {
            try TLSClientContext(caFile: certificates.caFile, certificateFile: certificates.clientChain)
        }
        #expect(throws: TLSError.self) {
            try TLSClientContext(caFile: certificates.caFile, certificateFile: certificates.clientChain,
                                 privateKeyFile: certificates.serverKey)
        }
    }
}
