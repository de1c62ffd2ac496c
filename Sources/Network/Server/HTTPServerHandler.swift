import HTTP1

/// Answers requests. Called on the connection's loop, once per request, after the whole request
/// body arrived. Respond through `responder`, now or later, from that loop's thread (hop with
/// `request.eventLoop.execute` from elsewhere).
public protocol HTTPServerHandler: Sendable {
    func handle(_ request: HTTPServerRequest, responder: HTTPResponder)
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
