import Glibc
import Testing
@testable import Network

/// Output queued during one loop pass leaves at the end of that pass in one gathered write.
@Suite("Output coalescing")
struct OutputCoalescingTests {
    /// On connect, writes `pieces` one call each, then records how many output calls it took.
    final class PieceWriter: ConnectionDelegate, @unchecked Sendable {
        let pieces: [[UInt8]]
        let outputCalls = Waiter<Int>()
        var connection: Connection?

        init(pieces: [[UInt8]]) { self.pieces = pieces }

        func connectionDidConnect(_ connection: Connection) {
            self.connection = connection
            for piece in pieces { connection.write(piece) }
            // Nothing leaves inside `write`: the loop flushes once this pass is over.
            #expect(connection.outputCallCount == 0)
            #expect(connection.pendingWriteBytes == pieces.reduce(0) { $0 + $1.count })
            connection.loop.runSoon {
                // `runSoon` work runs in the same pass, still before the flush.
                #expect(connection.outputCallCount == 0)
            }
        }

        func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {}

        func connectionDidClose(_ connection: Connection, error: ConnectionError?) {}
    }

    /// Starts a listener on one loop whose connections use `writer`; returns its port.
    static func listen(on loop: EventLoop, tls: TLSServerContext?, writer: PieceWriter) throws -> Int {
        try loop.runAndWait {
            let listener = try Listener(address: SocketAddress(host: "127.0.0.1", port: 0), loop: loop) { fd, remote in
                let connection = try! Connection(acceptedFD: fd, remoteAddress: remote, loop: loop, tls: tls)
                connection.start(delegate: writer)
            }
            return listener.port
        }
    }

    static let pieces: [[UInt8]] = [Array("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n".utf8),
                                     Array("01234".utf8), Array("56789".utf8)]

    @Test("three writes in one pass leave with one sendmsg")
    func plainWritesCoalesce() throws {
        let group = EventLoopGroup(loopCount: 2)
        defer { group.shutdown() }
        let writer = PieceWriter(pieces: Self.pieces)
        let port = try Self.listen(on: group.loops[0], tls: nil, writer: writer)
        let (client, _) = try ConnectionTests.connectClient(group: group, port: port)
        let total = Self.pieces.reduce(0) { $0 + $1.count }
        #expect(client.waitForBytes(total) == total)
        #expect(client.bytes == Self.pieces.flatMap { $0 })
        let calls = try group.loops[0].runAndWait { writer.connection?.outputCallCount }
        #expect(calls == 1)
    }

    @Test("three writes in one pass leave as one TLS record")
    func tlsWritesCoalesce() throws {
        let certificates = TestCertificates.shared
        let group = EventLoopGroup(loopCount: 2)
        defer { group.shutdown() }
        let serverContext = try TLSServerContext(certificateChainFile: certificates.serverChain,
                                                 privateKeyFile: certificates.serverKey)
        let writer = PieceWriter(pieces: Self.pieces)
        let port = try Self.listen(on: group.loops[0], tls: serverContext, writer: writer)
        let (client, _) = try ConnectionTests.connectClient(
            group: group, port: port, tls: TLSClientContext(caFile: certificates.caFile), serverName: "localhost")
        let total = Self.pieces.reduce(0) { $0 + $1.count }
        #expect(client.waitForBytes(total) == total)
        #expect(client.bytes == Self.pieces.flatMap { $0 })
        // SSL_read hands out one record at a time: one delivery means one record.
        #expect(client.received.current == [total])
        let calls = try group.loops[0].runAndWait { writer.connection?.outputCallCount }
        #expect(calls == 1)
    }

    @Test("a pass that queues more than the immediate-flush threshold starts sending at once")
    func largeOutputIsNotHeldBack() throws {
        let group = EventLoopGroup(loopCount: 2)
        defer { group.shutdown() }
        let big = ConnectionTests.pattern(Connection.immediateFlushThreshold)
        final class BigWriter: ConnectionDelegate, @unchecked Sendable {
            let big: [UInt8]
            let callsAfterWrite = Waiter<Int>()
            init(big: [UInt8]) { self.big = big }
            // Answers the client's first byte, when the socket is known to be writable.
            func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
                connection.write(big)
                callsAfterWrite.record(connection.outputCallCount)
            }
            func connectionDidClose(_ connection: Connection, error: ConnectionError?) {}
        }
        let writer = BigWriter(big: big)
        let loop = group.loops[0]
        let port = try loop.runAndWait {
            let listener = try Listener(address: SocketAddress(host: "127.0.0.1", port: 0), loop: loop) { fd, remote in
                let connection = try! Connection(acceptedFD: fd, remoteAddress: remote, loop: loop, tls: nil)
                connection.start(delegate: writer)
            }
            return listener.port
        }
        let (client, _) = try ConnectionTests.connectClient(group: group, port: port, send: [1])
        #expect(client.waitForBytes(big.count) == big.count)
        #expect(client.bytes == big)
        #expect(writer.callsAfterWrite.wait() == [1])
    }
}
