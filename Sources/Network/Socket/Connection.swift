import CSystem
import Glibc

// MARK: - How to use a Connection
//
// A `Connection` is one TCP stream, plain or TLS, owned by one `EventLoop` for its whole life.
// Every method must be called on that loop's thread (hop there with `loop.execute` first), and every
// delegate callback arrives there. It works the same over TCP and TLS: the delegate only ever sees
// plaintext.
//
//     final class Upstream: ConnectionDelegate {
//         func connectionDidConnect(_ connection: Connection) {
//             connection.write(requestHead, requestBody)          // one gathered write
//         }
//         func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
//             // `bytes` points into the loop's shared read buffer: parse or copy it now, it is
//             // overwritten by the next read of any connection on this loop.
//             if downstreamIsFull { connection.pauseReading() }     // later: resumeReading()
//         }
//         func connectionDidDrain(_ connection: Connection) { /* isWritable again: write more */ }
//         func connectionDidClose(_ connection: Connection, error: ConnectionError?) { ... }
//     }
//     let connection = Connection.connect(to: address, on: loop, tls: clientContext,
//                                         serverName: "topdesk.example", timeout: .seconds(5),
//                                         delegate: upstream)
//
// - Connecting: `connect` returns at once; `connectionDidConnect` follows once TCP (and the TLS
//   handshake with certificate and host name verification) is done, or `connectionDidClose` with
//   the error (`.io` for refused/unreachable, `.tls` for handshake or verification, `.timedOut`).
//   Writes made before that are queued and sent on connect.
// - Reading: `connection(_:didRead:)` per chunk read. `pauseReading()` stops reading (the kernel
//   buffer then fills and TCP pushes back on the peer); `resumeReading()` continues on the next loop
//   pass, never inside the call. `connectionDidReadEOF` says the peer finished sending; the default
//   implementation answers with `close(.afterFlush)`.
// - Writing: `write(_:)`, `write(_:_:)` and `write(contentsOf:)` queue arrays (no copy); at the end
//   of the loop's current pass everything queued goes out with one `sendmsg` over all of them
//   (TLS: gathered into 16 KiB records), so a head and a body written one after the other leave
//   in one TLS record and one system call. `isWritable` turns false when more than
//   `highWaterMark` bytes are pending; `connectionDidDrain` is called when they fall to
//   `lowWaterMark`. `writeTimeout` (optional) closes the connection when pending output makes no
//   progress for that long.
// - Closing: `close(.afterFlush)` sends what is pending, then TLS close_notify, then
//   `shutdown(SHUT_WR)`, then reads and discards until the peer closes or `lingerTimeout` passes
//   (so a peer still sending does not get a reset that destroys the last response).
//   `close(.immediately)` drops pending output. `connectionDidClose` is called exactly once, also
//   when you close yourself (possibly from inside `close`), and the connection then releases its
//   delegate: the connection keeps its delegate alive until then.
//
// Readiness is edge-triggered (EPOLLET, registered once for IN|OUT|RDHUP): a connection flips
// between wanting to read and wanting to write many times per request, and with level triggering
// each flip would be an epoll_ctl call. The price is that we must read until EAGAIN (or note that
// we stopped early and come back), which `socketReadable` / `socketWritable` track.

/// Receives a connection's events, on its loop thread.
public protocol ConnectionDelegate: AnyObject {
    /// TCP connected and, with TLS, the handshake finished.
    func connectionDidConnect(_ connection: Connection)
    /// Plaintext read; valid only during the call (it lives in the loop's shared read buffer).
    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer)
    /// The peer will send no more (FIN or close_notify). Writing may continue.
    func connectionDidReadEOF(_ connection: Connection)
    /// Pending output fell to the low-water mark after having been above the high-water mark.
    func connectionDidDrain(_ connection: Connection)
    /// The connection is closed; `error` is nil for an orderly close.
    func connectionDidClose(_ connection: Connection, error: ConnectionError?)
}

extension ConnectionDelegate {
    public func connectionDidConnect(_ connection: Connection) {}
    public func connectionDidReadEOF(_ connection: Connection) { connection.close(.afterFlush) }
    public func connectionDidDrain(_ connection: Connection) {}
}

/// One TCP connection, plain or TLS, confined to its event loop. See the notes at the top of this
/// file for how to use it.
public final class Connection: LoopSelectable {
    public enum CloseMode: Sendable {
        /// Drop pending output and close the socket now.
        case immediately
        /// Send pending output, close the write side, linger briefly reading, then close.
        case afterFlush
    }

    enum State {
        case connecting
        case handshaking
        case open
        /// Output shut down; reading and discarding until EOF or the linger timer.
        case lingering
        case closed
    }

    static let registrationFlags = tb_EPOLLIN | tb_EPOLLOUT | tb_EPOLLRDHUP | tb_EPOLLET
    /// Reads per readiness event before yielding to other connections on the loop.
    static let maxReadsPerWakeup = 16

    public let loop: EventLoop
    public let remoteAddress: SocketAddress
    let fd: Int32
    var tls: TLSSession?
    var delegate: (any ConnectionDelegate)?
    var state: State
    var isRegistered = false

    /// Pending output above this makes `isWritable` false (bytes; default 256 KiB).
    public var highWaterMark = 256 * 1024
    /// `connectionDidDrain` fires when pending output falls to this (bytes; default 64 KiB).
    public var lowWaterMark = 64 * 1024
    /// Close with `.timedOut(.write)` when pending output makes no progress this long (default off).
    public var writeTimeout: Duration?
    /// How long `close(.afterFlush)` waits for the peer's EOF after shutting down output, counted
    /// from the last bytes the peer sent: a client still uploading a body the server refused keeps
    /// the connection open (its bytes discarded) until it is done and reads the answer, as long as
    /// it sends something this often (default 2 s), for at most `maxLingerDuration`.
    public var lingerTimeout: Duration = .seconds(2)
    /// The longest a closing connection drains a peer that keeps sending (default 30 s).
    public var maxLingerDuration: Duration = .seconds(30)

    // Readiness as last seen (edge-triggered: true until a call hits EAGAIN).
    var socketReadable = false
    var socketWritable = false
    /// EPOLLRDHUP/EPOLLHUP seen: a short read no longer proves the socket is drained.
    var peerMayHaveClosed = false
    /// TLS: SSL_read needs the socket writable first (and the reverse for SSL_write).
    var readWaitsForWritable = false
    var writeWaitsForReadable = false

    var readPaused = false
    var readScheduled = false
    var eofReceived = false

    // Output queue: arrays as handed to `write`, sent from `outputHead`/`outputOffset` on.
    var outputQueue: [[UInt8]] = []
    var outputHead = 0
    var outputOffset = 0
    var pendingBytes = 0
    /// Bytes the socket (or TLS) has taken since the connection opened: whether any byte of a
    /// request left, which decides if a failed non-idempotent request may be sent again.
    var bytesSent: UInt64 = 0
    /// `sendmsg` or `SSL_write` calls made so far: what tests count to see writes coalesce.
    var outputCallCount = 0
    /// `read` or `SSL_read` calls made so far (handshakes aside), for tests.
    var inputCallCount = 0
    var aboveHighWater = false
    var isFlushing = false
    /// Listed for the loop's end-of-pass flush.
    var flushScheduled = false
    var closeRequested = false
    /// TLS: the length of an SSL_write that must be retried with the same bytes.
    var tlsRetryLength = 0

    var connectTimer: TimerID?
    var writeTimer: TimerID?
    var lingerTimer: TimerID?
    var lingerStartedAt: UInt64 = 0
    var lastLingerReadAt: UInt64 = 0
    var lastWriteProgress: UInt64 = 0

    init(fd: Int32, remoteAddress: SocketAddress, loop: EventLoop, state: State) {
        self.fd = fd
        self.remoteAddress = remoteAddress
        self.loop = loop
        self.state = state
    }

    deinit {
        if state != .closed, fd >= 0 { Glibc.close(fd) }
    }

    // MARK: - Public state

    /// Bytes queued but not yet taken by the socket (plaintext, before TLS framing).
    public var pendingWriteBytes: Int { pendingBytes }
    /// False while pending output is above the high-water mark, until it falls to the low-water mark.
    public var isWritable: Bool { !aboveHighWater }
    public var isOpen: Bool { state != .closed }
    /// Whether the peer finished sending.
    public var hasReadEOF: Bool { eofReceived }
    public var isTLS: Bool { tls != nil }
    /// The ALPN protocol agreed in the handshake ("http/1.1"), nil without TLS or ALPN.
    public var negotiatedALPN: String? { tls?.negotiatedALPN }
    /// "TLSv1.2" or "TLSv1.3", nil without TLS.
    public var tlsProtocolVersion: String? { tls?.protocolVersion }
    public var isReadingPaused: Bool { readPaused }

    // MARK: - Opening

    /// Starts connecting to `address`. Returns at once; see `ConnectionDelegate` for the outcome.
    /// `serverName` is the TLS SNI and verification name (a DNS name or an IP literal); nil skips
    /// host name verification (the chain is still verified). `timeout` covers TCP and TLS.
    /// Loop thread only.
    public static func connect(
        to address: SocketAddress, on loop: EventLoop, tls: TLSClientContext? = nil, serverName: String? = nil,
        timeout: Duration = .seconds(10), delegate: any ConnectionDelegate
    ) -> Connection {
        assert(loop.inEventLoop, "Connection.connect called off the loop thread")
        let fd = tb_socket_stream(address.addressFamily)
        let connection = Connection(fd: fd, remoteAddress: address, loop: loop, state: .connecting)
        connection.delegate = delegate
        guard fd >= 0 else {
            connection.failSoon(.io(.last("socket")))
            return connection
        }
        _ = tb_setsockopt_int(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
        if let tls {
            do {
                connection.tls = try TLSSession(clientContext: tls, fd: fd, serverName: serverName)
            } catch {
                connection.failSoon(.tls(error))
                return connection
            }
        }
        let result = address.withSockAddr { Glibc.connect(fd, $0, $1) }
        if result != 0 && tb_errno() != EINPROGRESS {
            connection.failSoon(.io(.last("connect")))
            return connection
        }
        do {
            try loop.register(fd, flags: registrationFlags, handler: connection)
            connection.isRegistered = true
        } catch {
            connection.failSoon(.io(error))
            return connection
        }
        connection.connectTimer = loop.scheduleTimer(after: timeout) { [unowned connection] in
            connection.connectTimer = nil
            connection.closeNow(error: .timedOut(.connect))
        }
        return connection
    }

    /// Wraps a socket returned by accept4 (already non-blocking). Call `start(delegate:)` next.
    /// When this throws, the caller still owns (and must close) `fd`.
    init(acceptedFD fd: Int32, remoteAddress: SocketAddress, loop: EventLoop, tls: TLSServerContext?) throws(TLSError) {
        let session = try tls.map { context throws(TLSError) in try TLSSession(serverContext: context, fd: fd) }
        self.fd = fd
        self.remoteAddress = remoteAddress
        self.loop = loop
        self.tls = session
        state = session == nil ? .open : .handshaking
        _ = tb_setsockopt_int(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
    }

    /// Registers an accepted connection with its loop. Plain connections report
    /// `connectionDidConnect` before this returns; TLS ones once the handshake is done.
    func start(delegate: any ConnectionDelegate) {
        self.delegate = delegate
        do {
            try loop.register(fd, flags: Self.registrationFlags, handler: self)
            isRegistered = true
        } catch {
            closeNow(error: .io(error))
            return
        }
        if state == .open { delegate.connectionDidConnect(self) }
    }

    private func failSoon(_ error: ConnectionError) {
        loop.runSoon { [self] in closeNow(error: error) }
    }

    // MARK: - Events

    func handleEvents(_ flags: UInt32) {
        if flags & (tb_EPOLLIN | tb_EPOLLRDHUP | tb_EPOLLHUP | tb_EPOLLERR) != 0 { socketReadable = true }
        if flags & (tb_EPOLLRDHUP | tb_EPOLLHUP) != 0 { peerMayHaveClosed = true }
        if flags & (tb_EPOLLOUT | tb_EPOLLHUP | tb_EPOLLERR) != 0 { socketWritable = true }
        switch state {
        case .connecting:
            finishConnecting()
        case .handshaking:
            continueHandshake()
        case .open, .lingering:
            // Write first: it frees kernel buffer space and may complete a TLS retry.
            if pendingBytes > 0 { flush() }
            readAvailable()
        case .closed:
            break
        }
    }

    func loopIsStopping() {
        closeNow(error: .loopStopped)
    }

    private func finishConnecting() {
        var socketError: Int32 = 0
        if tb_getsockopt_int(fd, SOL_SOCKET, SO_ERROR, &socketError) != 0 { socketError = tb_errno() }
        if socketError != 0 {
            closeNow(error: .io(IOError(call: "connect", errno: socketError)))
            return
        }
        guard socketWritable else { return }
        if tls != nil {
            state = .handshaking
            continueHandshake()
        } else {
            becomeOpen()
        }
    }

    private func continueHandshake() {
        guard let tls else { return }
        switch tls.handshake() {
        case .complete:
            becomeOpen()
        case .wantRead:
            socketReadable = false
        case .wantWrite:
            socketWritable = false
        case .failed(let error):
            closeNow(error: .tls(error))
        }
    }

    private func becomeOpen() {
        state = .open
        if let connectTimer {
            loop.cancelTimer(connectTimer)
            self.connectTimer = nil
        }
        delegate?.connectionDidConnect(self)
        guard state == .open else { return }
        if pendingBytes > 0 { scheduleFlush() }
        readAvailable()
    }
}
