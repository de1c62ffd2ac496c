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
        // One pass over the fields, allocating nothing: this runs for every request sent.
        var hasTransferEncoding = false
        var lengthCount = 0
        var length: String?
        for field in head.headers.fields {
            if field.name.equalsIgnoringASCIICase("Content-Length") {
                lengthCount += 1
                length = field.value
            } else if field.name.equalsIgnoringASCIICase("Transfer-Encoding") {
                hasTransferEncoding = true
            }
        }
        let bodyless = bodyCount == 0 && (head.method == "GET" || head.method == "HEAD")
        let lengthIsRight = bodyless
            ? lengthCount == 0
            : lengthCount == 1 && length.map { value in
                value.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } && Int(value) == bodyCount
            } == true
        if !hasTransferEncoding && lengthIsRight { return nil }

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
