import HTTP1

/// Answers requests. Called on the connection's loop, once per request, after the whole request
/// body arrived. Respond through `responder`, now or later, from that loop's thread (hop with
/// `request.eventLoop.execute` from elsewhere).
public protocol HTTPServerHandler: Sendable {
    func handle(_ request: HTTPServerRequest, responder: HTTPResponder)

    /// Called when the head of a request with a body has arrived, before any of the body is read
    /// and before `100 Continue` is sent; `request.body` is empty. A server that buffers bodies
    /// should decide here what the head alone decides (the credential, say), or anyone could make
    /// it hold a body of the largest size. The default reads the body.
    func decideBeforeBody(_ request: HTTPServerRequest) -> HeadDecision
}

extension HTTPServerHandler {
    public func decideBeforeBody(_ request: HTTPServerRequest) -> HeadDecision {
        .readBody(admission: nil)
    }
}

/// What a handler decided from a request's head, before its body (`decideBeforeBody`).
public enum HeadDecision {
    /// Read the body, then call `handle` with `admission` in `request.admission`, so what was
    /// worked out from the head is not worked out again.
    case readBody(admission: AnyObject?)
    /// Read none of the body: the closure answers through the responder it is given, and the
    /// connection closes after that answer (the unread body leaves no way to find the next request).
    case refuse((HTTPResponder) -> Void)
}

/// One request as the handler sees it.
///
/// A class, not a struct: the gateway hands a request through several steps and keeps it for the
/// upstream exchange, and each copy of a struct of this size would retain every string and
/// array in it again.
public final class HTTPServerRequest {
    public let head: HTTPRequestHead
    /// The whole body (empty when there was none); chunked bodies arrive de-chunked.
    public let body: [UInt8]
    public let remoteAddress: SocketAddress
    public let isTLS: Bool
    /// The loop the connection lives on; the responder must be used from it.
    public let eventLoop: EventLoop
    /// What the handler's `decideBeforeBody` handed back for this request; nil for a request
    /// without a body, which `handle` gets straight away.
    public let admission: AnyObject?

    public init(head: HTTPRequestHead, body: [UInt8], remoteAddress: SocketAddress, isTLS: Bool, eventLoop: EventLoop,
                admission: AnyObject? = nil) {
        self.head = head
        self.body = body
        self.remoteAddress = remoteAddress
        self.isTLS = isTLS
        self.eventLoop = eventLoop
        self.admission = admission
    }
}
