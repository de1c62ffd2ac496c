import HTTP1

/// The life of one server connection, without sockets or clocks: events in, actions out. Time
/// is passed in (monotonic nanoseconds), so every timeout can be tested by handing it a later
/// `now`.
///
/// Requests are handled one at a time: while a request is with the handler, the next pipelined
/// request stays unparsed (its bytes wait in the connection's buffer), so responses go out in
/// request order without any queue of responses (RFC 9112 section 9.3.2).
struct HTTPServerConnectionStateMachine {
    enum State: Equatable {
        /// No byte of the next request seen: a new connection (header timeout runs, counting the
        /// TLS handshake) or one between requests (idle timeout runs).
        case idle
        /// Part of a head has arrived. Header timeout runs.
        case readingHead
        /// The head was delivered by the parser; the body is being buffered. Each arrival of body
        /// bytes restarts the idle timeout.
        case readingBody
        /// The whole request is with the handler; the response is being produced.
        case responding
        /// The connection is finishing its last output and then closes.
        case closing
        case closed
    }

    enum Action: Equatable {
        case none
        /// `Expect: 100-continue` with a body: send the interim response now.
        case sendContinue
        /// The whole request is here: give it to the handler.
        case deliverRequest
        /// The response is complete and the connection stays: parse what is buffered, read on.
        case resumeParsing
        /// Answer with this status and `Connection: close`, then close (a parse error, a body
        /// over the limit, a request that took too long).
        case rejectAndClose(status: Int)
        /// Finish the pending output, then close.
        case closeAfterFlush
        /// Close without waiting for anything.
        case closeNow
    }

    struct Timeouts: Equatable {
        var header: UInt64
        var idle: UInt64
    }

    private(set) var state: State = .idle
    /// When the current wait ends, if one runs.
    private(set) var deadline: UInt64?
    /// Whether another request may follow the current one on this connection.
    private(set) var keepAlive = true
    private(set) var bodyBytes = 0
    private var bodyAnnounced = false
    private var stopping = false
    private var peerFinishedSending = false
    private let timeouts: Timeouts
    private let maxBodyBytes: Int

    /// A new connection: it is expected to send a request within the header timeout.
    init(now: UInt64, timeouts: Timeouts, maxBodyBytes: Int) {
        self.timeouts = timeouts
        self.maxBodyBytes = maxBodyBytes
        deadline = now &+ timeouts.header
    }

    /// Bytes of a new request arrived while idle: the header timeout starts.
    mutating func requestBytesArrived(now: UInt64) {
        guard state == .idle else { return }
        state = .readingHead
        deadline = now &+ timeouts.header
    }

    mutating func headReceived(_ head: HTTPRequestHead, framing: HTTPBodyFraming, now: UInt64) -> Action {
        guard state == .readingHead || state == .idle else { return .none }
        keepAlive = keepAlive && head.keepAlive && !stopping
        bodyBytes = 0
        state = .readingBody
        deadline = now &+ timeouts.idle
        let hasBody: Bool
        switch framing {
        case .none, .untilClose:
            hasBody = false
        case .length(let length):
            if length > maxBodyBytes { return reject(status: 413) }
            hasBody = length > 0
        case .chunked:
            hasBody = true
        }
        bodyAnnounced = hasBody
        // RFC 9110 section 10.1.1: a server that will read the body answers 100 Continue first.
        if hasBody, head.version == .http1_1,
           head.headers.listElements(name: "Expect").contains(where: { $0.equalsIgnoringASCIICase("100-continue") }) {
            return .sendContinue
        }
        return .none
    }

    /// Whether the head just received announced a body that has not been read yet.
    var awaitsBody: Bool { state == .readingBody && bodyAnnounced }

    /// The handler refused the request on its head: none of its body is read, and the answer is
    /// the last on this connection (the unread body leaves nothing to find the next request by).
    mutating func requestRefusedBeforeBody() -> Action {
        guard state == .readingBody else { return .none }
        state = .responding
        keepAlive = false
        deadline = nil
        return .none
    }

    mutating func bodyReceived(byteCount: Int, now: UInt64) -> Action {
        guard state == .readingBody else { return .none }
        bodyBytes += byteCount
        if bodyBytes > maxBodyBytes { return reject(status: 413) }
        deadline = now &+ timeouts.idle
        return .none
    }

    mutating func requestEnded() -> Action {
        guard state == .readingBody else { return .none }
        state = .responding
        // The handler's own work is not timed here; output progress is (the write timeout).
        deadline = nil
        return .deliverRequest
    }

    /// The response's head asked to close, or its body runs until the connection closes.
    mutating func responseRequiresClose() {
        keepAlive = false
    }

    mutating func responseEnded(now: UInt64) -> Action {
        guard state == .responding else { return .none }
        if keepAlive && !stopping && !peerFinishedSending {
            state = .idle
            deadline = now &+ timeouts.idle
            return .resumeParsing
        }
        state = .closing
        deadline = nil
        return .closeAfterFlush
    }

    mutating func parseFailed(status: Int) -> Action {
        switch state {
        case .idle, .readingHead, .readingBody:
            return reject(status: status)
        case .responding, .closing, .closed:
            // Parsing is paused while responding; nothing to answer after closing.
            return .none
        }
    }

    /// The peer sent FIN (or close_notify).
    mutating func inputEnded() -> Action {
        peerFinishedSending = true
        switch state {
        case .idle, .readingHead, .readingBody:
            // Nothing or only part of a request: there is nobody to answer.
            state = .closed
            deadline = nil
            return .closeNow
        case .responding:
            // Maybe only a half-close: finish the response, then close.
            keepAlive = false
            return .none
        case .closing, .closed:
            return .none
        }
    }

    /// The deadline's timer fired (maybe early, if the deadline moved later since it was armed).
    mutating func timerFired(now: UInt64) -> Action {
        guard let deadline, now >= deadline else { return .none }
        switch state {
        case .idle:
            state = .closed
            self.deadline = nil
            return .closeNow
        case .readingHead, .readingBody:
            // RFC 9110 section 15.5.9: 408 tells the client the server gave up waiting.
            return reject(status: 408)
        case .responding, .closing, .closed:
            self.deadline = nil
            return .none
        }
    }

    /// The server stops: idle connections close now, a request in progress finishes first.
    mutating func stopRequested() -> Action {
        stopping = true
        keepAlive = false
        switch state {
        case .idle:
            state = .closed
            deadline = nil
            return .closeNow
        case .readingHead, .readingBody, .responding, .closing, .closed:
            return .none
        }
    }

    mutating func connectionClosed() {
        state = .closed
        deadline = nil
    }

    private mutating func reject(status: Int) -> Action {
        state = .closing
        keepAlive = false
        deadline = nil
        return .rejectAndClose(status: status)
    }
}
