/// Why an upstream exchange failed. `detail` names the failing call with its errno, or carries the
/// drained OpenSSL error stack; it never contains request or response content.
public struct HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Name resolution, `socket` or `connect` failed (refused, unreachable).
        case connectFailed
        /// The TLS handshake failed (certificate, hostname, protocol) or TLS broke mid-stream.
        case tlsFailed
        /// The connect, response or queue timeout passed.
        case timeout
        /// The upstream closed or reset the connection, or a write to it failed.
        case connectionClosed
        /// The upstream's response broke HTTP/1.1 framing, or exceeded a configured limit.
        case protocolError
        /// The client was shut down, or the request was cancelled.
        case poolClosed
    }

    public var kind: Kind
    public var detail: String
    /// Whether any byte of the response had arrived when the exchange failed. A caller that already
    /// forwarded a response head must not answer with a fresh error response.
    public var receivedResponseBytes: Bool

    public init(kind: Kind, detail: String, receivedResponseBytes: Bool = false) {
        self.kind = kind
        self.detail = detail
        self.receivedResponseBytes = receivedResponseBytes
    }

    public var description: String {
        let stage = receivedResponseBytes ? "after response bytes arrived" : "before any response byte"
        return "HTTPClientError.\(kind): \(detail) (\(stage))"
    }
}
