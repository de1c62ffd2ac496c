import HTTP1

/// How the client frames a request body it sends whole (RFC 9112 section 6): the body is always a
/// complete byte array, so its length is known and `Content-Length` is the framing.
enum HTTPClientRequestFraming {
    /// Returns the head to send for `body`, or nil when `head` can go out unchanged (the common
    /// case, which costs no copy):
    /// - `Transfer-Encoding` is removed: the body is not sent chunked.
    /// - `Content-Length` is set to the body's size when missing or different, except for a GET or
    ///   HEAD without a body, which carries no `Content-Length` at all.
    /// No other header is added or changed.
    static func adjustedHead(_ head: HTTPRequestHead, bodyCount: Int) -> HTTPRequestHead? {
        let framing = head.headers.framingFields
        let bodyless = bodyCount == 0 && (head.method == "GET" || head.method == "HEAD")
        let lengthIsRight = bodyless
            ? framing.contentLengthCount == 0
            : framing.contentLengthCount == 1 && framing.contentLength.map { value in
                value.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } && Int(value) == bodyCount
            } == true
        if !framing.hasTransferEncoding && lengthIsRight { return nil }

        var adjusted = head
        adjusted.headers.remove(name: "Transfer-Encoding")
        if bodyless {
            adjusted.headers.remove(name: "Content-Length")
        } else {
            adjusted.headers.replaceOrAdd(name: "Content-Length", value: String(bodyCount))
        }
        return adjusted
    }
}
