import HTTP1

/// Answers requests. Called on the connection's loop, once per request, after the whole request
/// body arrived. Respond through `responder`, now or later, from that loop's thread (hop with
/// `request.eventLoop.execute` from elsewhere).
public protocol HTTPServerHandler: Sendable {
    func handle(_ request: HTTPServerRequest, responder: HTTPResponder)

    /// Called when the head of a request with a body has arrived, before any of the body is read
    /// and before `100 Continue` is sent; `request.body` is empty. Return a closure to refuse the
    /// request on its head alone (no credential, say): the connection then reads none of the
    /// body, calls the closure with a responder for the answer, and closes after it. Return nil to
    /// read the body and get `handle` as usual. A server that buffers bodies should refuse here
    /// what it would refuse anyway, or anyone could make it hold a body of the largest size.
    /// The default returns nil.
    func refusalBeforeBody(_ request: HTTPServerRequest) -> ((HTTPResponder) -> Void)?
}

extension HTTPServerHandler {
    public func refusalBeforeBody(_ request: HTTPServerRequest) -> ((HTTPResponder) -> Void)? {
        nil
    }
}

/// One request as the handler sees it.
public struct HTTPServerRequest {
    public var head: HTTPRequestHead
    /// The whole body (empty when there was none); chunked bodies arrive de-chunked.
    public var body: [UInt8]
    public var remoteAddress: SocketAddress
    public var isTLS: Bool
    /// The loop the connection lives on; the responder must be used from it.
    public var eventLoop: EventLoop

    public init(head: HTTPRequestHead, body: [UInt8], remoteAddress: SocketAddress, isTLS: Bool, eventLoop: EventLoop) {
        self.head = head
        self.body = body
        self.remoteAddress = remoteAddress
        self.isTLS = isTLS
        self.eventLoop = eventLoop
    }
}
