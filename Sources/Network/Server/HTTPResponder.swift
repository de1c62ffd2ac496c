import HTTP1

/// Sends the response to one request. Loop-confined: use it from the request's `eventLoop` only.
/// Exactly one of: `respond(_:body:)`, or `sendHead` + `sendBody`* + `sendEnd`. Calls after the
/// response is complete, or after the connection closed, are ignored.
///
/// One responder is made per request (a small object): reusing one per connection would let a
/// handler holding on to an old responder write into a later request's response.
public final class HTTPResponder {
    enum Progress {
        case notStarted
        case streaming(framing: ResponseFraming)
        case finished
    }

    enum ResponseFraming {
        case none
        case chunked
        case length(remaining: Int)
        /// Neither Content-Length nor chunked: the body ends when the connection closes.
        case untilClose
    }

    /// The connection, until the response is finished or the connection closed: a strong
    /// reference cleared then (the connection drops its responder at the same points), not a
    /// weak one, whose side table would put every retain of the connection on the slow path.
    private var owner: HTTPServerConnection?
    let method: String
    let version: HTTPVersion
    var progress: Progress = .notStarted

    /// Told when the connection can take output again and when the client went away. Held
    /// strongly until the response is finished, aborted or the connection closed; clear it when
    /// done with the responder. An object rather than two closures: a streamed response would
    /// otherwise allocate both for every request.
    public var observer: (any HTTPResponderObserver)?

    init(owner: HTTPServerConnection, method: String, version: HTTPVersion) {
        self.owner = owner
        self.method = method
        self.version = version
    }

    /// False while more than the high-water mark of output is pending (stop producing until
    /// the observer hears it can go on), and after the connection closed.
    public var isWritable: Bool {
        guard let owner, owner.connection.isOpen else { return false }
        return owner.connection.isWritable
    }

    /// Response bytes queued on the connection but not yet taken by the socket.
    public var pendingWriteBytes: Int {
        owner?.connection.pendingWriteBytes ?? 0
    }

    /// Whether the responder still references its connection (for tests: a finished response
    /// must not keep the connection alive).
    var holdsConnection: Bool { owner != nil }

    var isFinished: Bool {
        if case .finished = progress { return true }
        return false
    }

    /// Sends a whole response. Adds `Content-Length` when the head has neither it nor
    /// `Transfer-Encoding` and the status allows a body; head and body go out in one gathered
    /// write. For a HEAD request the body is not sent.
    public func respond(_ head: HTTPResponseHead, body: [UInt8]) {
        guard case .notStarted = progress, let owner else { return }
        progress = .finished
        self.owner = nil
        owner.writeWholeResponse(head, body: body, method: method, version: version)
    }

    /// Starts a streamed response. Set `Content-Length` or `Transfer-Encoding: chunked` in the
    /// head; with neither, the body runs until the connection closes.
    public func sendHead(_ head: HTTPResponseHead) {
        guard case .notStarted = progress, let owner else { return }
        progress = .streaming(framing: owner.writeStreamingHead(head, method: method, version: version))
    }

    /// How a head written by `sendHead(status:reason:fieldsBound:writeFields:)` frames its body:
    /// what its fields say.
    public enum BodyFraming: Sendable {
        /// `Content-Length: n` is among the fields.
        case length(Int)
        /// `Transfer-Encoding: chunked` is among the fields.
        case chunked
        /// Neither: the body ends when the connection closes (the connection is not kept).
        case untilClose
    }

    /// Starts a streamed response whose fields `writeFields` writes straight into the head (at
    /// most `fieldsBound` bytes, as `name: value` CRLF lines) and then names the framing those
    /// fields give: for a handler that builds the head from another one, such as a proxy, so no
    /// second field list is made. The fields must not include `Connection`; the responder writes
    /// the status line and the `Connection` field the connection needs.
    public func sendHead(status: Int, reason: String = "", fieldsBound: Int,
                         writeFields: (inout ByteWriter) -> BodyFraming) {
        guard case .notStarted = progress, let owner else { return }
        progress = .streaming(framing: owner.writeStreamingHead(
            status: status, reason: reason, method: method, version: version,
            fieldsBound: fieldsBound, writeFields: writeFields))
    }

    /// Sends part of the body, chunk-encoded when the head said chunked. Bytes beyond a declared
    /// Content-Length are dropped.
    public func sendBody(_ bytes: [UInt8]) {
        guard case .streaming(let framing) = progress, let owner, !bytes.isEmpty else { return }
        switch framing {
        case .none:
            return
        case .chunked:
            owner.writeChunk(bytes)
        case .length(let remaining):
            guard remaining > 0 else { return }
            if bytes.count <= remaining {
                owner.connection.write(bytes)
                progress = .streaming(framing: .length(remaining: remaining - bytes.count))
            } else {
                owner.connection.write(Array(bytes[..<remaining]))
                progress = .streaming(framing: .length(remaining: 0))
            }
        case .untilClose:
            owner.connection.write(bytes)
        }
    }

    /// Ends a streamed response (with trailers, when chunked).
    public func sendEnd(trailers: HTTPHeaders? = nil) {
        guard case .streaming(let framing) = progress, let owner else { return }
        progress = .finished
        self.owner = nil
        owner.endStreamingResponse(framing: framing, trailers: trailers)
    }

    /// Gives up on a response that cannot be completed (its upstream failed after the head went
    /// out): the connection is closed at once, the only way to tell the client the body is cut
    /// short. The observer is not told of it.
    public func abort() {
        guard let owner else { return }
        if case .finished = progress { return }
        progress = .finished
        self.owner = nil
        observer = nil
        owner.forceClose()
    }

    func connectionClosed() {
        progress = .finished
        owner = nil
        let observer = self.observer
        self.observer = nil
        observer?.responderLostClient()
    }
}

/// What a streaming handler hears from its `HTTPResponder` (see `HTTPResponder.observer`).
public protocol HTTPResponderObserver: AnyObject {
    /// Pending output fell below the low-water mark after `isWritable` was false.
    func responderBecameWritable()
    /// The client went away before the response was complete.
    func responderLostClient()
}
