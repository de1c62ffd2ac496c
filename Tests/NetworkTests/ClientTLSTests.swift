import HTTP1
import Synchronization
import Testing
@testable import Network

/// A TLS upstream on the loop primitives: answers every request head with a fixed response and
/// keeps the connection open for more.
final class ClientTLSUpstream: @unchecked Sendable {
    let group = EventLoopGroup(loopCount: 1)
    let accepted = Atomic<Int>(0)
    private(set) var port = 0
    private var listener: Listener?

    init(context: TLSServerContext) throws {
        let loop = group.loops[0]
        let listener = try loop.runAndWait { [self] in
            try Listener(address: SocketAddress(host: "127.0.0.1", port: 0), loop: loop) { fd, remote in
                guard let connection = try? Connection(acceptedFD: fd, remoteAddress: remote, loop: loop,
                                                       tls: context)
                else { return }
                self.accepted.add(1, ordering: .relaxed)
                connection.start(delegate: ClientTLSUpstreamHandler())
            }
        }
        port = listener.port
        self.listener = listener
    }

    func stop() {
        if let listener { try? listener.loop.runAndWait { listener.close() } }
        group.shutdown()
    }
}

private final class ClientTLSUpstreamHandler: ConnectionDelegate {
    private var buffered: [UInt8] = []

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        buffered.append(contentsOf: bytes)
        while let end = headEnd() {
            buffered.removeFirst(end + 4)
            connection.write(Array("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecure".utf8))
        }
    }

    func connectionDidClose(_ connection: Connection, error: ConnectionError?) {}

    private func headEnd() -> Int? {
        guard buffered.count >= 4 else { return nil }
        return (0...(buffered.count - 4)).first {
            buffered[$0] == 13 && buffered[$0 + 1] == 10 && buffered[$0 + 2] == 13 && buffered[$0 + 3] == 10
        }
    }
}

@Suite("HTTP client over TLS", .serialized)
struct ClientTLSTests {
    @Test("a TLS upstream verified against its CA file serves two requests over one connection")
    func verifiedAndReused() async throws {
        let material = try ClientTLSMaterial()
        defer { material.remove() }
        let upstream = try ClientTLSUpstream(context: TLSServerContext(
            certificateChainFile: material.certificateFile, privateKeyFile: material.privateKeyFile))
        defer { upstream.stop() }
        let context = try TLSClientContext(caFile: material.caFile)
        let (client, group) = makeTestClient(port: upstream.port) {
            $0.tls = context
            $0.serverName = "localhost"
        }
        defer { client.shutdown(); group.shutdown() }
        let loop = group.loops[0]

        #expect(await clientFetch(client, on: loop).bodyText == "secure")
        // Let TLS 1.3 session tickets reach the idle connection: they must not make it unusable.
        try await Task.sleep(for: .milliseconds(50))
        #expect(await clientFetch(client, on: loop).bodyText == "secure")
        #expect(upstream.accepted.load(ordering: .relaxed) == 1)
    }

    @Test("without a server name, the numeric host is verified against the certificate's IP address")
    func verifiesIPAddress() async throws {
        let material = try ClientTLSMaterial()
        defer { material.remove() }
        let upstream = try ClientTLSUpstream(context: TLSServerContext(
            certificateChainFile: material.certificateFile, privateKeyFile: material.privateKeyFile))
        defer { upstream.stop() }
        let context = try TLSClientContext(caFile: material.caFile)
        let (client, group) = makeTestClient(port: upstream.port) { $0.tls = context }
        defer { client.shutdown(); group.shutdown() }

        #expect(await clientFetch(client, on: group.loops[0]).bodyText == "secure")
    }

    @Test("a certificate that does not name the expected host fails with tlsFailed")
    func wrongHostName() async throws {
        let material = try ClientTLSMaterial()
        defer { material.remove() }
        let upstream = try ClientTLSUpstream(context: TLSServerContext(
            certificateChainFile: material.certificateFile, privateKeyFile: material.privateKeyFile))
        defer { upstream.stop() }
        let context = try TLSClientContext(caFile: material.caFile)
        let (client, group) = makeTestClient(port: upstream.port) {
            $0.tls = context
            $0.serverName = "wrong.example"
        }
        defer { client.shutdown(); group.shutdown() }

        let failure = await clientFetch(client, on: group.loops[0]).failure
        #expect(failure?.kind == .tlsFailed)
        #expect(failure?.detail.isEmpty == false)
    }
}
