import CSystem
import Glibc

extension Connection {
    private enum FlushStep {
        case progressed
        case blocked
        case failed(ConnectionError)
    }

    /// Queues `bytes` (no copy); they are sent at the end of the loop's current pass, together
    /// with whatever else this pass queued (see `EventLoop.scheduleFlush`). Writes after `close`
    /// are dropped; writes before the connection is open are sent once it is. Loop thread only.
    public func write(_ bytes: [UInt8]) {
        guard accepting(bytes) else { return }
        outputQueue.append(bytes)
        pendingBytes += bytes.count
        flushAndTrackWater()
    }

    /// Queues two buffers (say, a head and a body); they leave with one gathered write.
    public func write(_ first: [UInt8], _ second: [UInt8]) {
        let takesFirst = accepting(first), takesSecond = accepting(second)
        if takesFirst {
            outputQueue.append(first)
            pendingBytes += first.count
        }
        if takesSecond {
            outputQueue.append(second)
            pendingBytes += second.count
        }
        if takesFirst || takesSecond { flushAndTrackWater() }
    }

    /// Queues several buffers; they leave with as few gathered writes as the socket allows.
    public func write(contentsOf buffers: [[UInt8]]) {
        var any = false
        for buffer in buffers where accepting(buffer) {
            outputQueue.append(buffer)
            pendingBytes += buffer.count
            any = true
        }
        if any { flushAndTrackWater() }
    }

    /// Copies `bytes` into the queue; sent like `write(_:)`.
    public func write(copying bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        write([UInt8](bytes))
    }

    private func accepting(_ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty, !closeRequested else { return false }
        switch state {
        case .connecting, .handshaking, .open: return true
        case .lingering, .closed: return false
        }
    }

    /// Output queued in one pass is normally flushed at the end of the pass; past this many
    /// pending bytes it is flushed at once, which bounds what a pass can pile up and changes
    /// nothing for large bodies (they fill whole TLS records and socket buffers anyway).
    static let immediateFlushThreshold = 64 * 1024

    private func flushAndTrackWater() {
        switch state {
        case .open:
            if pendingBytes >= Self.immediateFlushThreshold {
                flush()
            } else {
                scheduleFlush()
            }
        case .connecting, .handshaking, .lingering, .closed:
            break
        }
        if pendingBytes > highWaterMark { aboveHighWater = true }
    }

    /// Lists the connection for the loop's end-of-pass flush, once.
    func scheduleFlush() {
        guard !flushScheduled else { return }
        flushScheduled = true
        loop.scheduleFlush(self)
    }

    /// The loop's end-of-pass flush (`EventLoop.scheduleFlush`).
    func runScheduledFlush() {
        flushScheduled = false
        guard state == .open, pendingBytes > 0 else { return }
        flush()
    }

    /// Sends queued output until the queue is empty or the socket pushes back; then finishes a
    /// requested close, re-arms the write timeout and reports draining.
    func flush() {
        guard !isFlushing else { return }
        isFlushing = true
        var failure: ConnectionError?
        sending: while pendingBytes > 0 {
            guard socketWritable, !(writeWaitsForReadable && !socketReadable) else { break }
            writeWaitsForReadable = false
            switch tls == nil ? sendPlain() : sendTLS() {
            case .progressed:
                continue
            case .blocked:
                break sending
            case .failed(let error):
                failure = error
                break sending
            }
        }
        isFlushing = false
        if let failure {
            closeNow(error: failure)
            return
        }
        guard state != .closed else { return }

        if pendingBytes == 0 {
            if let writeTimer {
                loop.cancelTimer(writeTimer)
                self.writeTimer = nil
            }
            if closeRequested && state == .open { beginLingering() }
        } else if writeTimer == nil, let writeTimeout {
            lastWriteProgress = loop.now
            armWriteTimer(deadline: lastWriteProgress &+ writeTimeout.nanoseconds)
        }
        if aboveHighWater && pendingBytes <= lowWaterMark {
            aboveHighWater = false
            delegate?.connectionDidDrain(self)
        }
    }

    private func armWriteTimer(deadline: UInt64) {
        writeTimer = loop.scheduleTimer(at: deadline) { [unowned self] in
            writeTimer = nil
            guard pendingBytes > 0, state != .closed, let writeTimeout else { return }
            let deadline = lastWriteProgress &+ writeTimeout.nanoseconds
            if loop.now >= deadline {
                closeNow(error: .timedOut(.write))
            } else {
                armWriteTimer(deadline: deadline)
            }
        }
    }

    /// Marks `count` bytes as sent, dropping finished arrays from the queue.
    private func consume(_ count: Int) {
        pendingBytes -= count
        bytesSent &+= UInt64(count)
        if writeTimer != nil { lastWriteProgress = loop.now }
        if pendingBytes == 0 {
            outputQueue.removeAll(keepingCapacity: true)
            outputHead = 0
            outputOffset = 0
            return
        }
        var remaining = count
        while remaining > 0 {
            let available = outputQueue[outputHead].count - outputOffset
            if remaining < available {
                outputOffset += remaining
                return
            }
            remaining -= available
            outputQueue[outputHead] = []
            outputHead += 1
            outputOffset = 0
        }
        if outputHead >= 32 && outputHead * 2 >= outputQueue.count {
            outputQueue.removeFirst(outputHead)
            outputHead = 0
        }
    }

    // MARK: Plain TCP: one sendmsg over up to `EventLoop.maxIOVecs` queued arrays.

    private func sendPlain() -> FlushStep {
        var attempted = 0
        outputCallCount += 1
        let sent = gatherIOVecs(slot: 0, total: 0) { count, total in
            attempted = total
            while true {
                let result = tb_sendmsg_iov(fd, loop.ioVectors, Int32(count))
                if result >= 0 || tb_errno() != EINTR { return result }
            }
        }
        if sent < 0 {
            let errno = tb_errno()
            if errno == EAGAIN || errno == EWOULDBLOCK {
                socketWritable = false
                return .blocked
            }
            return .failed(.io(IOError(call: "sendmsg", errno: errno)))
        }
        consume(sent)
        if sent < attempted {
            // A short write means the socket buffer is full; EPOLLOUT will say when it is not.
            socketWritable = false
            return .blocked
        }
        return .progressed
    }

    /// Fills the loop's iovec array from the queue (keeping each array pinned while in use) and
    /// calls `body(count, totalBytes)` with all of them pinned.
    private func gatherIOVecs(slot: Int, total: Int, _ body: (Int, Int) -> Int) -> Int {
        let index = outputHead + slot
        guard slot < EventLoop.maxIOVecs, index < outputQueue.count else { return body(slot, total) }
        let skip = slot == 0 ? outputOffset : 0
        return outputQueue[index].withUnsafeBytes { raw in
            loop.ioVectors[slot] = iovec(
                iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress! + skip), iov_len: raw.count - skip)
            return gatherIOVecs(slot: slot + 1, total: total + raw.count - skip, body)
        }
    }

    // MARK: TLS: one SSL_write per record, small arrays gathered into one record.

    private func sendTLS() -> FlushStep {
        guard let tls else { return .failed(.io(IOError(call: "SSL_write", errno: EBADF))) }
        let firstRemaining = outputQueue[outputHead].count - outputOffset
        let length: Int
        if tlsRetryLength > 0 {
            // OpenSSL requires a retry after WANT_* to present the same bytes and length.
            length = tlsRetryLength
        } else if firstRemaining >= EventLoop.tlsRecordSize || outputHead + 1 == outputQueue.count {
            length = firstRemaining
        } else {
            length = min(pendingBytes, EventLoop.tlsRecordSize)
        }

        let result: TLSSession.IOResult
        outputCallCount += 1
        if length <= firstRemaining {
            let offset = outputOffset
            result = outputQueue[outputHead].withUnsafeBytes { raw in
                tls.write(UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + length)]))
            }
        } else {
            copyQueuePrefix(length, into: loop.tlsGatherBuffer)
            result = tls.write(UnsafeRawBufferPointer(rebasing: loop.tlsGatherBuffer[..<length]))
        }

        switch result {
        case .bytes(let count):
            tlsRetryLength = 0
            consume(count)
            return .progressed
        case .wantWrite:
            tlsRetryLength = length
            socketWritable = false
            return .blocked
        case .wantRead:
            tlsRetryLength = length
            socketReadable = false
            writeWaitsForReadable = true
            return .blocked
        case .closed:
            return .failed(.io(IOError(call: "SSL_write", errno: EPIPE)))
        case .failed(let error):
            return .failed(error)
        }
    }

    private func copyQueuePrefix(_ length: Int, into destination: UnsafeMutableRawBufferPointer) {
        var copied = 0
        var index = outputHead
        var offset = outputOffset
        while copied < length {
            let take = min(length - copied, outputQueue[index].count - offset)
            outputQueue[index].withUnsafeBytes { raw in
                (destination.baseAddress! + copied).copyMemory(from: raw.baseAddress! + offset, byteCount: take)
            }
            copied += take
            index += 1
            offset = 0
        }
    }
}
