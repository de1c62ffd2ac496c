import CSystem
import Glibc
import Testing
@testable import Network

@Suite("TCP and TLS connections")
struct ConnectionTests {
    static func pattern(_ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
    }

    /// Connects a recording client to `port` on a loop of `group` and sends `payload` in pieces.
    static func connectClient(
        group: EventLoopGroup, port: Int, tls: TLSClientContext? = nil, serverName: String? = nil,
        send payload: [UInt8] = []
    ) throws -> (RecordingClient, Unchecked<Connection>) {
        let client = RecordingClient()
        let loop = group.next()
        let connection = try loop.runAndWait {
            let address = try SocketAddress(host: "127.0.0.1", port: port)
            let connection = Connection.connect(to: address, on: loop, tls: tls, serverName: serverName,
                                                timeout: .seconds(5), delegate: client)
            var offset = 0
            while offset < payload.count {
                let end = min(payload.count, offset + 100_000)
                connection.write(Array(payload[offset..<end]), [])
                offset = end
            }
            return Unchecked(connection)
        }
        return (client, connection)
    }

    @Test("plain TCP echo carries 4 MiB intact through back-pressure on both sides")
    func plainEcho() throws {
        let group = EventLoopGroup(loopCount: 2)
        defer { group.shutdown() }
        let server = try EchoServer(group: group)
        defer { server.stop() }
        let payload = Self.pattern(4 * 1024 * 1024)
        let (client, connection) = try Self.connectClient(group: group, port: server.port, send: payload)
        #expect(client.connected.wait().first == true)
        #expect(client.waitForBytes(payload.count, timeout: 20) == payload.count)
        #expect(client.bytes == payload)
        try connection.value.loop.runAndWait { connection.value.close() }
        #expect(client.closed.wait().first == "clean")
    }

    @Test("TLS echo verifies the server certificate, negotiates http/1.1 and carries 1 MiB intact")
    func tlsEcho() throws {
        let certificates = TestCertificates.shared
        let group = EventLoopGroup(loopCount: 2)
        defer { group.shutdown() }
        let serverContext = try TLSServerContext(certificateChainFile: certificates.serverChain,
                                                 privateKeyFile: certificates.serverKey)
        let server = try EchoServer(group: group, tls: serverContext)
        defer { server.stop() }
        let clientContext = try TLSClientContext(caFile: certificates.caFile)
        let payload = Self.pattern(1024 * 1024)
        let (client, _) = try Self.connectClient(group: group, port: server.port, tls: clientContext,
                                                 serverName: "localhost", send: payload)
        #expect(client.connected.wait().first == true)
        #expect(client.alpn == "http/1.1")
        #expect(client.tlsVersion == "TLSv1.3")
        #expect(client.waitForBytes(payload.count, timeout: 20) == payload.count)
        #expect(client.bytes == payload)
    }

    @Test("a TLS client checks IP address literals against the certificate's IP names")
    func tlsIPAddressVerification() throws {
        let certificates = TestCertificates.shared
        let group = EventLoopGroup(loopCount: 1)
        defer { group.shutdown() }
        let server = try EchoServer(group: group, tls: TLSServerContext(
            certificateChainFile: certificates.serverChain, privateKeyFile: certificates.serverKey))
        defer { server.stop() }
        let clientContext = try TLSClientContext(caFile: certificates.caFile)
        let (good, _) = try Self.connectClient(group: group, port: server.port, tls: clientContext,
                                               serverName: "127.0.0.1", send: Array("ping".utf8))
        #expect(good.waitForBytes(4) == 4)
        let (bad, _) = try Self.connectClient(group: group, port: server.port, tls: clientContext,
                                              serverName: "127.0.0.2")
        #expect(bad.closed.wait().count == 1)
        #expect(bad.connected.current.isEmpty)
    }

    @Test("a TLS client refuses a certificate issued for another host name")
    func tlsHostNameMismatch() throws {
        let certificates = TestCertificates.shared
        let group = EventLoopGroup(loopCount: 1)
        defer { group.shutdown() }
        let server = try EchoServer(group: group, tls: TLSServerContext(
            certificateChainFile: certificates.serverChain, privateKeyFile: certificates.serverKey))
        defer { server.stop() }
        let clientContext = try TLSClientContext(caFile: certificates.caFile)
        let (client, _) = try Self.connectClient(group: group, port: server.port, tls: clientContext,
                                                 serverName: "upstream.example")
        let outcome = client.closed.wait()
        #expect(outcome.count == 1)
        #expect(client.connected.current.isEmpty)
        guard case .tls(let error)? = client.closeError else {
            Issue.record("expected a TLS error, got \(String(describing: client.closeError))")
            return
        }
        #expect(error.detail?.contains("hostname mismatch") == true)
        #expect(!error.openSSLErrors.isEmpty)
    }

    @Test("a TLS client using the system trust store refuses the test CA's certificate")
    func systemTrustStoreRefusesTestCA() throws {
        let certificates = TestCertificates.shared
        let group = EventLoopGroup(loopCount: 1)
        defer { group.shutdown() }
        let server = try EchoServer(group: group, tls: TLSServerContext(
            certificateChainFile: certificates.serverChain, privateKeyFile: certificates.serverKey))
        defer { server.stop() }
        let (client, _) = try Self.connectClient(group: group, port: server.port, tls: TLSClientContext(),
                                                 serverName: "localhost")
        #expect(client.closed.wait().count == 1)
        guard case .tls(let error)? = client.closeError else {
            Issue.record("expected a TLS error, got \(String(describing: client.closeError))")
            return
        }
        #expect(error.detail?.contains("certificate verification failed") == true)
    }

    @Test("connecting to a port nobody listens on reports connection refused")
    func connectRefused() throws {
        let group = EventLoopGroup(loopCount: 1)
        defer { group.shutdown() }
        // Bind a port, then close it so nothing listens there.
        let port = try group.loops[0].runAndWait {
            let address = try SocketAddress(host: "127.0.0.1", port: 0)
            let listener = try Listener(address: address, loop: group.loops[0]) { fd, _ in Glibc.close(fd) }
            defer { listener.close() }
            return listener.port
        }
        let (client, _) = try Self.connectClient(group: group, port: port)
        #expect(client.closed.wait().count == 1)
        guard case .io(let error)? = client.closeError else {
            Issue.record("expected an I/O error, got \(String(describing: client.closeError))")
            return
        }
        #expect(error.errno == ECONNREFUSED)
    }

    @Test("a server connection whose peer never reads is closed by the write timeout")
    func writeTimeout() throws {
        let group = EventLoopGroup(loopCount: 1)
        defer { group.shutdown() }
        let loop = group.loops[0]
        let serverClosed = Waiter<String>()
        final class Flooder: ConnectionDelegate {
            let closed: Waiter<String>
            init(closed: Waiter<String>) { self.closed = closed }
            func connectionDidConnect(_ connection: Connection) {
                connection.writeTimeout = .milliseconds(300)
                connection.write([UInt8](repeating: 7, count: 16 * 1024 * 1024))
            }
            func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {}
            func connectionDidClose(_ connection: Connection, error: ConnectionError?) {
                closed.record(error.map { "\($0)" } ?? "clean")
            }
        }
        let port = try loop.runAndWait {
            let listener = try Listener(address: SocketAddress(host: "127.0.0.1", port: 0), loop: loop) { fd, remote in
                let connection = try! Connection(acceptedFD: fd, remoteAddress: remote, loop: loop, tls: nil)
                connection.start(delegate: Flooder(closed: serverClosed))
            }
            return listener.port
        }
        // A blocking client that connects and never reads.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { Glibc.close(fd) }
        let address = try SocketAddress(host: "127.0.0.1", port: port)
        #expect(address.withSockAddr { Glibc.connect(fd, $0, $1) } == 0)
        let outcome = serverClosed.wait(timeout: 10)
        #expect(outcome == ["write timed out"])
    }
}
