import Foundation
import Glibc
import Synchronization
import Testing

/// A scripted HTTP upstream for client tests: blocking sockets on background threads, bound to
/// 127.0.0.1 on port 0. Each accepted connection runs `script` on its own thread; every socket has a
/// receive timeout and the accept loop polls, so a test can never hang on it. The file holds the
/// test helper for the client's loopback tests (and a test of the helper itself).
final class ClientTestUpstream: Sendable {
    let port: Int
    private let listener: Int32
    private let state = Mutex<(accepted: Int, stopped: Bool, open: [ClientTestUpstreamConnection])>((0, false, []))
    private let finished = DispatchSemaphore(value: 0)

    /// Connections accepted so far.
    var acceptCount: Int { state.withLock { $0.accepted } }

    init(script: @escaping @Sendable (ClientTestUpstreamConnection, Int) -> Void) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            close(fd)
            throw POSIXError(.init(rawValue: errno) ?? .EIO)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))

        let thread = Thread { [self] in
            acceptLoop(script: script)
            finished.signal()
        }
        thread.start()
    }

    private func acceptLoop(script: @escaping @Sendable (ClientTestUpstreamConnection, Int) -> Void) {
        while !state.withLock({ $0.stopped }) {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 50) > 0 else { continue }
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { continue }
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let connection = ClientTestUpstreamConnection(fd: fd)
            let index = state.withLock { state in
                state.accepted += 1
                state.open.append(connection)
                return state.accepted - 1
            }
            Thread {
                script(connection, index)
                connection.close()
            }.start()
        }
    }

    /// Stops accepting and shuts down every connection still open; waits for the accept loop.
    func stop() {
        let open = state.withLock { state in
            state.stopped = true
            return state.open
        }
        // Through the connection, never by bare fd number: a connection its script already closed
        // has given its number back, and another test running in parallel may hold it now.
        for connection in open { connection.shutdownIfOpen() }
        finished.wait()
        close(listener)
    }
}

/// One accepted connection, driven by a test script on its own thread.
final class ClientTestUpstreamConnection: @unchecked Sendable {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var closed = false
    private let lock = NSLock()

    init(fd: Int32) {
        self.fd = fd
    }

    /// Reads one request (head and a Content-Length body); nil at end of input or timeout.
    func readRequest() -> (head: String, body: [UInt8])? {
        while true {
            if let end = headEnd() {
                let head = String(decoding: buffer[..<end], as: UTF8.self)
                let length = contentLength(of: head)
                while buffer.count < end + 4 + length {
                    guard fill() else { return nil }
                }
                let body = Array(buffer[(end + 4)..<(end + 4 + length)])
                buffer.removeFirst(end + 4 + length)
                return (head, body)
            }
            guard fill() else { return nil }
        }
    }

    /// Waits until the peer closes (true) or the receive timeout passes (false).
    func waitForClose() -> Bool {
        var scratch = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &scratch, scratch.count, 0)
            if count == 0 { return true }
            if count < 0 { return errno == ECONNRESET }
        }
    }

    func write(_ text: String) {
        write(Array(text.utf8))
    }

    func write(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { return }
            offset += sent
        }
    }

    /// Closes with a reset (SO_LINGER 0) instead of an orderly FIN.
    func reset() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        close()
    }

    /// Shuts both directions down unless the connection was already closed.
    func shutdownIfOpen() {
        lock.lock()
        defer { lock.unlock() }
        if !closed { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    func close() {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        closed = true
        Glibc.close(fd)
    }

    private func fill() -> Bool {
        var scratch = [UInt8](repeating: 0, count: 16 * 1024)
        let count = recv(fd, &scratch, scratch.count, 0)
        guard count > 0 else { return false }
        buffer.append(contentsOf: scratch[..<count])
        return true
    }

    private func headEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for index in 0...(buffer.count - 4)
        where buffer[index] == 13 && buffer[index + 1] == 10 && buffer[index + 2] == 13 && buffer[index + 3] == 10 {
            return index
        }
        return nil
    }

    private func contentLength(of head: String) -> Int {
        for line in head.split(separator: "\r\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "content-length" {
                return Int(parts[1].trimmingCharacters(in: .whitespaces)) ?? 0
            }
        }
        return 0
    }
}

@Suite("Client test upstream")
struct ClientTestUpstreamTests {
    @Test("the scripted upstream answers a raw request and counts the connection")
    func answersRawRequest() throws {
        let upstream = try ClientTestUpstream { connection, _ in
            guard let request = connection.readRequest() else { return }
            connection.write("HTTP/1.1 200 OK\r\nContent-Length: \(request.body.count)\r\n\r\n")
            connection.write(request.body)
        }
        defer { upstream.stop() }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(upstream.port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        #expect(connected == 0)
        let request = Array("POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var reply = [UInt8]()
        var scratch = [UInt8](repeating: 0, count: 1024)
        while true {
            let count = recv(fd, &scratch, scratch.count, 0)
            guard count > 0 else { break }
            reply.append(contentsOf: scratch[..<count])
        }
        #expect(String(decoding: reply, as: UTF8.self) == "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")
        #expect(upstream.acceptCount == 1)
    }
}
