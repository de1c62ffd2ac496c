import HTTP1

/// One request on its way through a pool: what to send and who receives the answer. The body is
/// kept whole so that the request can be sent again after a retryable failure.
final class HTTPClientRequest {
    let head: HTTPRequestHead
    let body: [UInt8]
    let delegate: any HTTPClientResponseDelegate
    /// Whether the request said `Connection: close`.
    let allowsConnectionReuse: Bool
    /// Set once the pool queued the request again after a failure; it is never retried twice.
    var hasBeenRetried = false

    init(head: consuming HTTPRequestHead, body: [UInt8], delegate: any HTTPClientResponseDelegate) {
        allowsConnectionReuse = head.keepAlive
        if let adjusted = HTTPClientRequestFraming.adjustedHead(head, bodyCount: body.count) {
            self.head = adjusted
        } else {
            self.head = head
        }
        self.body = body
        self.delegate = delegate
    }
}
