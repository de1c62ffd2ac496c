/// What a parser's caller wants after an event.
public enum HTTPParserAction: Sendable {
    /// Keep parsing the bytes at hand.
    case proceed
    /// Stop right after this event; `parse` returns the bytes consumed so far.
    case pause
}

/// How the body of a message is delimited (RFC 9112 section 6.3).
public enum HTTPBodyFraming: Sendable, Equatable {
    /// No body: a request without Content-Length or Transfer-Encoding, a response to HEAD, a 1xx,
    /// 204 or 304 response.
    case none
    /// Exactly this many bytes (Content-Length).
    case length(Int)
    /// Transfer-Encoding whose final coding is chunked.
    case chunked
    /// A response body that runs until the connection closes.
    case untilClose
}

/// An event of `HTTPRequestParser`. Body bytes are a view into the buffer passed to `parse`,
/// valid only during the callback.
public enum HTTPRequestParserEvent {
    case head(HTTPRequestHead)
    case body(UnsafeRawBufferPointer)
    /// The message is complete. Trailers are nil when the body was not chunked or the trailer
    /// section was empty.
    case end(trailers: HTTPHeaders?)
}

/// An event of `HTTPResponseParser`. Body bytes are a view into the buffer passed to `parse`,
/// valid only during the callback.
public enum HTTPResponseParserEvent {
    /// An interim 1xx response other than 101 (for instance 100 Continue); the final response
    /// follows.
    case informational(HTTPResponseHead)
    case head(HTTPResponseHead)
    case body(UnsafeRawBufferPointer)
    case end(trailers: HTTPHeaders?)
}
