import COpenSSL
import Glibc
import Testing
@testable import Network

@Suite("TLS server settings")
struct TLSProtocolTests {
    /// Handshakes with a blocking OpenSSL client limited to `version`; returns the negotiated
    /// version or the drained error text.
    static func handshake(
        port: Int, version: Int32, alpn: [UInt8]? = nil
    ) -> (version: String?, alpn: String?, errors: [String]) {
        _ = TLSError.drainErrorQueue()
        let context = SSL_CTX_new(TLS_client_method())!
        defer { SSL_CTX_free(context) }
        _ = tb_SSL_CTX_set_min_proto_version(context, version)
        _ = tb_SSL_CTX_set_max_proto_version(context, version)
        // Let OpenSSL 3 even try the old versions (security level 0), so the refusal is the server's.
        SSL_CTX_set_security_level(context, 0)
        _ = SSL_CTX_set_cipher_list(context, "DEFAULT:@SECLEVEL=0")
        if let alpn { _ = SSL_CTX_set_alpn_protos(context, alpn, UInt32(alpn.count)) }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard let address = try? SocketAddress(host: "127.0.0.1", port: port),
              address.withSockAddr({ connect(fd, $0, $1) }) == 0 else { return (nil, nil, ["connect failed"]) }
        let ssl = SSL_new(context)!
        defer { SSL_free(ssl) }
        SSL_set_fd(ssl, fd)
        guard SSL_connect(ssl) == 1 else { return (nil, nil, TLSError.drainErrorQueue()) }
        var data: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &data, &length)
        let selected = data.map { String(decoding: UnsafeBufferPointer(start: $0, count: Int(length)), as: UTF8.self) }
        return (String(cString: SSL_get_version(ssl)), selected, [])
    }

    static func startServer(_ group: EventLoopGroup) throws -> EchoServer {
        let certificates = TestCertificates.shared
        return try EchoServer(group: group, tls: TLSServerContext(
            certificateChainFile: certificates.serverChain, privateKeyFile: certificates.serverKey))
    }

    @Test("the server refuses TLS 1.1 and TLS 1.0 and accepts TLS 1.2 and 1.3")
    func protocolVersions() throws {
        let group = EventLoopGroup(loopCount: 1)
        defer { group.shutdown() }
        let server = try Self.startServer(group)
        defer { server.stop() }
        for old in [TLS1_1_VERSION, TLS1_VERSION] {
            let outcome = Self.handshake(port: server.port, version: old)
            #expect(outcome.version == nil)
            #expect(outcome.errors.contains { $0.contains("protocol version") || $0.contains("unsupported protocol") },
                    "errors: \(outcome.errors)")
        }
        #expect(Self.handshake(port: server.port, version: TLS1_2_VERSION).version == "TLSv1.2")
        #expect(Self.handshake(port: server.port, version: TLS1_3_VERSION).version == "TLSv1.3")
    }

    @Test("ALPN agrees to http/1.1 and refuses a client that offers only h2")
    func alpn() throws {
        let group = EventLoopGroup(loopCount: 1)
        defer { group.shutdown() }
        let server = try Self.startServer(group)
        defer { server.stop() }
        let both: [UInt8] = [2] + Array("h2".utf8) + [8] + Array("http/1.1".utf8)
        #expect(Self.handshake(port: server.port, version: TLS1_3_VERSION, alpn: both).alpn == "http/1.1")
        let h2Only: [UInt8] = [2] + Array("h2".utf8)
        let refused = Self.handshake(port: server.port, version: TLS1_3_VERSION, alpn: h2Only)
        #expect(refused.version == nil)
        #expect(refused.errors.contains { $0.contains("no application protocol") }, "errors: \(refused.errors)")
    }

    @Test("a TLS 1.2 handshake uses an ECDHE AEAD suite from the intermediate list")
    func tls12Cipher() throws {
        let group = EventLoopGroup(loopCount: 1)
        defer { group.shutdown() }
        let server = try Self.startServer(group)
        defer { server.stop() }
        // CBC suites are not in the list: a client offering only those is refused.
        let context = SSL_CTX_new(TLS_client_method())!
        defer { SSL_CTX_free(context) }
        _ = tb_SSL_CTX_set_max_proto_version(context, TLS1_2_VERSION)
        _ = SSL_CTX_set_cipher_list(context, "ECDHE-ECDSA-AES128-SHA256")
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        let address = try SocketAddress(host: "127.0.0.1", port: server.port)
        #expect(address.withSockAddr { connect(fd, $0, $1) } == 0)
        let ssl = SSL_new(context)!
        defer { SSL_free(ssl) }
        SSL_set_fd(ssl, fd)
        #expect(SSL_connect(ssl) != 1)
        let errors = TLSError.drainErrorQueue()
        #expect(errors.contains { $0.contains("handshake failure") }, "errors: \(errors)")
        #expect(TLSServerContext.intermediateCiphers.contains("ECDHE-ECDSA-AES128-GCM-SHA256"))
    }

    @Test("loading a key that does not match the certificate fails with the OpenSSL error stack")
    func mismatchedKey() {
        let certificates = TestCertificates.shared
        #expect {
            try TLSServerContext(certificateChainFile: certificates.serverChain,
                                 privateKeyFile: certificates.secondServerKey)
        } throws: { error in
            guard let error = error as? TLSError else { return false }
            return error.openSSLErrors.contains { $0.contains("key values mismatch") }
        }
        #expect {
            try TLSServerContext(certificateChainFile: "/nonexistent.pem", privateKeyFile: certificates.serverKey)
        } throws: { error in
            (error as? TLSError)?.openSSLErrors.isEmpty == false
        }
    }
}
