import CSystem
import Glibc

/// A listening TCP socket registered on one loop. Servers open one per loop on the same port
/// with SO_REUSEPORT, so the kernel spreads new connections over the loops without a shared
/// accept lock.
///
/// Registered level-triggered, unlike connections: accepting in bounded batches then needs no
/// bookkeeping (epoll reports the backlog again on the next pass), and a listener's interest never
/// changes, so level triggering costs no extra epoll_ctl calls.
final class Listener: LoopSelectable {
    /// Connections accepted per readiness event before other work on the loop gets a turn.
    static let acceptBatch = 64
    /// Pause after the process ran out of descriptors, so the loop does not spin on EMFILE.
    static let descriptorExhaustionPause: Duration = .milliseconds(100)

    let loop: EventLoop
    let fd: Int32
    let port: Int
    private let onAccept: (Int32, SocketAddress) -> Void
    private var isOpen = true
    private var isPaused = false

    /// Binds and listens on `address` (port 0 picks a free port; pass the port the first listener
    /// got to the others). `onAccept` owns the non-blocking socket it receives. Loop thread only.
    init(address: SocketAddress, loop: EventLoop, backlog: Int32 = 4096,
         onAccept: @escaping (Int32, SocketAddress) -> Void) throws(IOError) {
        let fd = tb_socket_stream(address.addressFamily)
        guard fd >= 0 else { throw .last("socket") }
        func fail(_ call: String) -> IOError {
            let error = IOError.last(call)
            Glibc.close(fd)
            return error
        }
        guard tb_setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1) == 0 else { throw fail("setsockopt(SO_REUSEADDR)") }
        guard tb_setsockopt_int(fd, SOL_SOCKET, SO_REUSEPORT, 1) == 0 else { throw fail("setsockopt(SO_REUSEPORT)") }
        if address.family == .ipv6 { _ = tb_setsockopt_int(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1) }
        guard address.withSockAddr({ Glibc.bind(fd, $0, $1) }) == 0 else { throw fail("bind(\(address))") }
        guard Glibc.listen(fd, backlog) == 0 else { throw fail("listen") }

        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0, let bound = SocketAddress(&storage) else { throw fail("getsockname") }

        self.loop = loop
        self.fd = fd
        self.port = bound.port
        self.onAccept = onAccept
        do {
            try loop.register(fd, flags: tb_EPOLLIN, handler: self)
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    /// Checks that no other socket holds `address` and returns its port (a free one for port 0),
    /// for the listeners to bind next. SO_REUSEPORT, which lets a server's listeners share one port,
    /// also lets them join another process's listeners on it (same user): a second instance would
    /// then start without an error and take half of the connections. So a socket without
    /// SO_REUSEPORT binds first and is closed again; it fails with EADDRINUSE when the port is taken.
    static func exclusivePort(for address: SocketAddress) throws(IOError) -> Int {
        let fd = tb_socket_stream(address.addressFamily)
        guard fd >= 0 else { throw .last("socket") }
        defer { Glibc.close(fd) }
        // SO_REUSEADDR only skips connections of an earlier run still in TIME_WAIT.
        guard tb_setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1) == 0 else { throw .last("setsockopt(SO_REUSEADDR)") }
        if address.family == .ipv6 { _ = tb_setsockopt_int(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1) }
        guard address.withSockAddr({ Glibc.bind(fd, $0, $1) }) == 0 else { throw .last("bind(\(address))") }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0, let bound = SocketAddress(&storage) else { throw .last("getsockname") }
        return bound.port
    }

    func handleEvents(_ flags: UInt32) {
        var storage = sockaddr_storage()
        for _ in 0..<Self.acceptBatch {
            guard isOpen, !isPaused else { return }
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let client = tb_accept(fd, &storage, &length)
            if client < 0 {
                switch tb_errno() {
                case EAGAIN, EWOULDBLOCK:
                    return
                case EINTR, ECONNABORTED, EPROTO:
                    continue
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    pauseAccepting()
                    return
                default:
                    return
                }
            }
            guard let remote = SocketAddress(&storage) else {
                Glibc.close(client)
                continue
            }
            onAccept(client, remote)
        }
    }

    private func pauseAccepting() {
        isPaused = true
        try? loop.modify(fd, flags: 0)
        loop.scheduleTimer(after: Self.descriptorExhaustionPause) { [weak self] in
            guard let self, self.isOpen else { return }
            self.isPaused = false
            try? self.loop.modify(self.fd, flags: tb_EPOLLIN)
        }
    }

    /// Stops listening; connections already accepted are not affected. Loop thread only.
    func close() {
        guard isOpen else { return }
        isOpen = false
        loop.deregister(fd)
        Glibc.close(fd)
    }

    func loopIsStopping() {
        close()
    }
}
