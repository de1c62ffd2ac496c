extension HTTPClientError {
    /// The client's view of why a `Connection` closed, for the stage the exchange was in.
    init(_ error: ConnectionError, upstream: String, whileConnecting: Bool) {
        switch error {
        case .io(let ioError):
            self.init(kind: whileConnecting ? .connectFailed : .connectionClosed,
                      detail: "\(upstream): \(ioError.description)")
        case .tls(let tlsError):
            self.init(kind: .tlsFailed, detail: "\(upstream): \(tlsError.description)")
        case .timedOut(let timeout):
            self.init(kind: .timeout, detail: "\(upstream): \(timeout) timed out")
        case .loopStopped:
            self.init(kind: .poolClosed, detail: "\(upstream): the event loop stopped")
        }
    }
}
