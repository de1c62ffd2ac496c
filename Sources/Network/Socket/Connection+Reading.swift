import CSystem
import Glibc

extension Connection {
    private enum ReadResult {
        case bytes(Int)
        case wouldBlock
        case tlsWantsWrite
        case endOfStream
        case failed(ConnectionError)
    }

    /// Stops delivering reads until `resumeReading()`. The kernel buffer fills and TCP flow control
    /// slows the peer down. Loop thread only.
    public func pauseReading() {
        readPaused = true
    }

    /// Delivers reads again, starting on the next loop pass (never inside this call). Loop thread only.
    public func resumeReading() {
        guard readPaused else { return }
        readPaused = false
        if hasInputToRead { scheduleRead() }
    }

    /// The socket may hold data, or OpenSSL holds input the socket will not signal again.
    private var hasInputToRead: Bool {
        socketReadable || (tls?.hasBufferedInput ?? false)
    }

    func scheduleRead() {
        guard !readScheduled else { return }
        readScheduled = true
        loop.runSoon { [self] in
            readScheduled = false
            readAvailable()
        }
    }

    /// Reads until the socket is drained, reading is paused, or the per-wakeup budget is spent.
    func readAvailable() {
        var reads = 0
        // A short TLS read seen before this call may predate data whose edge has been consumed.
        tls?.forgetSocketReads()
        while true {
            switch state {
            case .open:
                if readPaused || eofReceived { return }
            case .lingering:
                if eofReceived { return }
            case .connecting, .handshaking, .closed:
                return
            }
            guard hasInputToRead, !(readWaitsForWritable && !socketWritable) else { return }
            readWaitsForWritable = false

            let buffer = loop.readBuffer
            switch readOnce(into: buffer) {
            case .bytes(let count):
                // After a close request (and while lingering) input is read only to be discarded.
                if state == .open && !closeRequested {
                    delegate?.connection(self, didRead: UnsafeRawBufferPointer(rebasing: buffer[..<count]))
                } else if state == .lingering {
                    lastLingerReadAt = loop.now
                }
                // A short read emptied the socket buffer; the next arrival raises a new edge, so
                // the read that would return EAGAIN is skipped. Not so once the peer's FIN may be
                // queued: its edge has already been consumed.
                if !peerMayHaveClosed && readEmptiedSocket(count: count, bufferSize: buffer.count) {
                    socketReadable = false
                    return
                }
                reads += 1
                if reads >= Self.maxReadsPerWakeup {
                    scheduleRead()
                    return
                }
            case .wouldBlock:
                socketReadable = false
                return
            case .tlsWantsWrite:
                socketWritable = false
                readWaitsForWritable = true
                return
            case .endOfStream:
                receivedEndOfStream()
                return
            case .failed(let error):
                closeNow(error: error)
                return
            }
        }
    }

    /// Whether the read that just delivered `count` bytes left the socket empty: a plain read
    /// that did not fill the buffer, or a TLS read whose last raw read came back short and left
    /// nothing buffered in OpenSSL.
    private func readEmptiedSocket(count: Int, bufferSize: Int) -> Bool {
        guard let tls else { return count < bufferSize }
        return tls.lastSocketReadWasShort && !tls.hasBufferedInput
    }

    private func readOnce(into buffer: UnsafeMutableRawBufferPointer) -> ReadResult {
        inputCallCount += 1
        if let tls {
            switch tls.read(into: buffer) {
            case .bytes(let count): return .bytes(count)
            case .wantRead: return .wouldBlock
            case .wantWrite: return .tlsWantsWrite
            case .closed: return .endOfStream
            case .failed(let error): return .failed(error)
            }
        }
        while true {
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if count > 0 { return .bytes(count) }
            if count == 0 { return .endOfStream }
            let errno = tb_errno()
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            default: return .failed(.io(IOError(call: "read", errno: errno)))
            }
        }
    }

    private func receivedEndOfStream() {
        eofReceived = true
        socketReadable = false
        switch state {
        case .lingering:
            closeNow(error: nil)
        case .open:
            delegate?.connectionDidReadEOF(self)
        case .connecting, .handshaking, .closed:
            break
        }
    }
}
