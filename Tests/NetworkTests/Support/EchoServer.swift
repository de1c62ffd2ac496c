@testable import Network

/// A server on the primitives alone: one listener per loop (SO_REUSEPORT), each accepted
/// connection echoes what it reads, pausing its reads while its own output is above the high-water
/// mark.
final class EchoServer: @unchecked Sendable {
    let group: EventLoopGroup
    private(set) var port = 0
    private var listeners: [Listener] = []

    init(group: EventLoopGroup, tls: TLSServerContext? = nil) throws {
        self.group = group
        for loop in group.loops {
            let boundPort = port
            let listener = try loop.runAndWait {
                try Listener(address: SocketAddress(host: "127.0.0.1", port: boundPort), loop: loop) { fd, remote in
                    guard let connection = try? Connection(acceptedFD: fd, remoteAddress: remote, loop: loop, tls: tls)
                    else { return }
                    connection.start(delegate: EchoHandler())
                }
            }
            port = listener.port
            listeners.append(listener)
        }
    }

    func stop() {
        for listener in listeners {
            try? listener.loop.runAndWait { listener.close() }
        }
    }
}

final class EchoHandler: ConnectionDelegate {
    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        connection.write(copying: bytes)
        if !connection.isWritable { connection.pauseReading() }
    }

    func connectionDidDrain(_ connection: Connection) {
        connection.resumeReading()
    }

    func connectionDidClose(_ connection: Connection, error: ConnectionError?) {}
}

/// A client-side delegate that records what happens, for tests to wait on.
final class RecordingClient: ConnectionDelegate, @unchecked Sendable {
    let connected = Waiter<Bool>()
    let closed = Waiter<String>()
    let received = Waiter<Int>()
    private(set) var bytes: [UInt8] = []
    var closeError: ConnectionError?
    var alpn: String?
    var tlsVersion: String?
    var onConnect: ((Connection) -> Void)?

    func connectionDidConnect(_ connection: Connection) {
        alpn = connection.negotiatedALPN
        tlsVersion = connection.tlsProtocolVersion
        onConnect?(connection)
        connected.record(true)
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        self.bytes.append(contentsOf: bytes)
        received.record(bytes.count)
    }

    func connectionDidClose(_ connection: Connection, error: ConnectionError?) {
        closeError = error
        closed.record(error.map { "\($0)" } ?? "clean")
    }

    /// Waits until at least `count` bytes arrived (or the deadline passed).
    func waitForBytes(_ count: Int, timeout: Double = 10) -> Int {
        let deadline = ContinuousClock.now + .seconds(timeout)
        while received.current.reduce(0, +) < count && ContinuousClock.now < deadline {
            received.wait(for: received.current.count + 1, timeout: 0.2)
        }
        return received.current.reduce(0, +)
    }
}
