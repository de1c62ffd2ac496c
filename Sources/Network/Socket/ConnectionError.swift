/// Why a `Connection` ended abnormally.
public enum ConnectionError: Error, Sendable, CustomStringConvertible {
    /// A system call failed: connect refused, reset by peer, ...
    case io(IOError)
    /// The TLS handshake or record layer failed (certificate, protocol version, bad record, ...).
    case tls(TLSError)
    /// A deadline passed.
    case timedOut(Timeout)
    /// The event loop shut down while the connection was open.
    case loopStopped

    public enum Timeout: Sendable, CustomStringConvertible {
        /// TCP connect plus TLS handshake took longer than the connect timeout.
        case connect
        /// Pending output made no progress for the write timeout.
        case write

        public var description: String {
            switch self {
            case .connect: "connect"
            case .write: "write"
            }
        }
    }

    public var description: String {
        switch self {
        case .io(let error): error.description
        case .tls(let error): error.description
        case .timedOut(let kind): "\(kind) timed out"
        case .loopStopped: "event loop stopped"
        }
    }
}
