import CSystem
import Glibc

extension Connection {
    /// Closes the connection; see `CloseMode`. `connectionDidClose` follows (exactly once).
    /// Loop thread only.
    public func close(_ mode: CloseMode = .afterFlush) {
        switch state {
        case .closed:
            return
        case .lingering:
            if mode == .immediately { closeNow(error: nil) }
        case .connecting, .handshaking:
            closeNow(error: nil)
        case .open:
            switch mode {
            case .immediately:
                closeNow(error: nil)
            case .afterFlush:
                closeRequested = true
                if pendingBytes == 0 { beginLingering() }
            }
        }
    }

    /// Output is done: say goodbye at the TLS layer, send FIN, and read (discarding) until the
    /// peer closes too or the linger timer ends it. Closing with unread input would make the kernel
    /// answer with a reset, which can destroy the response still in flight to the peer.
    func beginLingering() {
        state = .lingering
        tls?.sendCloseNotify()
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
        if eofReceived {
            closeNow(error: nil)
            return
        }
        lingerStartedAt = loop.now
        lastLingerReadAt = lingerStartedAt
        armLingerTimer(at: lingerStartedAt &+ lingerTimeout.nanoseconds)
        scheduleRead()
    }

    /// Closes at `deadline` unless the peer sent something meanwhile: then the wait starts again
    /// from its last bytes, up to `maxLingerDuration` after lingering began.
    private func armLingerTimer(at deadline: UInt64) {
        lingerTimer = loop.scheduleTimer(at: deadline) { [unowned self] in
            lingerTimer = nil
            let idleDeadline = lastLingerReadAt &+ lingerTimeout.nanoseconds
            let finalDeadline = lingerStartedAt &+ maxLingerDuration.nanoseconds
            let next = min(idleDeadline, finalDeadline)
            if next > loop.now {
                armLingerTimer(at: next)
            } else {
                closeNow(error: nil)
            }
        }
    }

    /// Releases everything now and tells the delegate.
    func closeNow(error: ConnectionError?) {
        guard state != .closed else { return }
        state = .closed
        for timer in [connectTimer, writeTimer, lingerTimer] {
            if let timer { loop.cancelTimer(timer) }
        }
        connectTimer = nil
        writeTimer = nil
        lingerTimer = nil
        if isRegistered {
            loop.deregister(fd)
            isRegistered = false
        }
        if fd >= 0 { Glibc.close(fd) }
        tls = nil
        outputQueue = []
        outputHead = 0
        outputOffset = 0
        pendingBytes = 0
        let delegate = self.delegate
        self.delegate = nil
        delegate?.connectionDidClose(self, error: error)
    }
}
