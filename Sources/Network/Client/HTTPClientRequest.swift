import HTTP1

/// A request head in wire form, written by the caller: a proxy that rewrites a client's head can
/// write it straight to bytes instead of building a second field list for the client to serialize.
///
/// The caller vouches for what `HTTPClient` would otherwise see to: the bytes are a complete
/// request head (request line, fields, empty line) whose framing matches the body sent with it
/// (`Content-Length` equal to its size, or none for a GET or HEAD without a body; no
/// `Transfer-Encoding`).
public struct HTTPWireRequestHead: Sendable {
    public var method: String
    public var bytes: [UInt8]
    /// Whether the head lets the connection be reused afterwards (it says no `Connection: close`).
    public var keepAlive: Bool

    public init(method: String, bytes: [UInt8], keepAlive: Bool) {
        self.method = method
        self.bytes = bytes
        self.keepAlive = keepAlive
    }
}

/// One request on its way through a pool: what to send and who receives the answer. The head is
/// kept in wire form and the body whole, so that the request can be sent again after a retryable
/// failure.
final class HTTPClientRequest {
    let method: String
    let serializedHead: [UInt8]
    let body: [UInt8]
    let delegate: any HTTPClientResponseDelegate
    /// Whether the request said `Connection: close`.
    let allowsConnectionReuse: Bool
    /// Set once the pool queued the request again after a failure; it is never retried twice.
    var hasBeenRetried = false

    init(head: consuming HTTPRequestHead, body: [UInt8], delegate: any HTTPClientResponseDelegate) {
        allowsConnectionReuse = head.keepAlive
        method = head.method
        var bytes: [UInt8] = []
        if let adjusted = HTTPClientRequestFraming.adjustedHead(head, bodyCount: body.count) {
            HTTPSerializer.writeHead(adjusted, into: &bytes)
        } else {
            HTTPSerializer.writeHead(head, into: &bytes)
        }
        serializedHead = bytes
        self.body = body
        self.delegate = delegate
    }

    init(wireHead: consuming HTTPWireRequestHead, body: [UInt8], delegate: any HTTPClientResponseDelegate) {
        allowsConnectionReuse = wireHead.keepAlive
        method = wireHead.method
        serializedHead = wireHead.bytes
        self.body = body
        self.delegate = delegate
    }
}
