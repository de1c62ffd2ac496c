import HTTP1

/// Serves HTTP/1.1 on one accepted `Connection`: feeds the parser, drives the state machine,
/// arms its deadline, and hands complete requests to the handler. Loop-confined.
///
/// Input: bytes are parsed straight from the loop's read buffer; only the unparsed rest (part of
/// a head, or a pipelined request waiting for the current response) is copied into
/// `pendingInput`. While a request is with the handler, reading continues (to notice the client
/// leaving) until `maxBufferedInput` bytes wait, then pauses.
final class HTTPServerConnection: ConnectionDelegate {
    /// Unparsed input kept while a response is in progress before reading pauses.
    static let maxBufferedInput = 64 * 1024
    static let continueResponse: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    let connection: Connection
    unowned let owner: HTTPServerLoopState
    var machine: HTTPServerConnectionStateMachine
    var parser: HTTPRequestParser
    var pendingInput: [UInt8] = []
    var isProcessingInput = false
    var pausedForBufferedInput = false
    var resumeParsingWhenDrained = false

    // What the current parse step found, acted on once the parser has returned.
    var parsedHead: HTTPRequestHead?
    var parsedRequestEnd = false
    var parsedRejection: HTTPServerConnectionStateMachine.Action?

    var currentHead: HTTPRequestHead?
    /// The handler's `decideBeforeBody` answer for `currentHead`, handed back with the request.
    var currentAdmission: AnyObject?
    var body: [UInt8] = []
    var responder: HTTPResponder?
    /// Reused for every response head on this connection.
    var headBuffer: [UInt8] = []

    var timer: TimerID?
    var timerDeadline: UInt64 = 0

    init(connection: Connection, owner: HTTPServerLoopState) {
        self.connection = connection
        self.owner = owner
        let configuration = owner.configuration
        machine = HTTPServerConnectionStateMachine(
            now: connection.loop.now,
            timeouts: .init(header: configuration.headerTimeout.nanoseconds,
                            idle: configuration.idleTimeout.nanoseconds),
            maxBodyBytes: configuration.maxBodyBytes)
        parser = HTTPRequestParser(limits: configuration.limits)
        syncTimer()
    }

    var loop: EventLoop { connection.loop }

    private var canParse: Bool {
        switch machine.state {
        case .idle, .readingHead, .readingBody: true
        case .responding, .closing, .closed: false
        }
    }

    // MARK: - ConnectionDelegate

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        if machine.state == .idle {
            machine.requestBytesArrived(now: loop.now)
            syncTimer()
        }
        if pendingInput.isEmpty && canParse && !isProcessingInput {
            // Fast path: parse straight from the loop's buffer and keep only the unparsed rest.
            isProcessingInput = true
            let consumed = consumeInput(bytes)
            isProcessingInput = false
            if consumed < bytes.count && connection.isOpen {
                pendingInput.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[consumed...]))
            }
        } else {
            pendingInput.append(contentsOf: bytes)
            processPendingInput()
        }
        if !canParse && pendingInput.count >= Self.maxBufferedInput && connection.isOpen {
            pausedForBufferedInput = true
            connection.pauseReading()
        }
    }

    func connectionDidReadEOF(_ connection: Connection) {
        act(machine.inputEnded())
    }

    func connectionDidDrain(_ connection: Connection) {
        if resumeParsingWhenDrained {
            resumeParsingWhenDrained = false
            resumeParsing()
        }
        responder?.observer?.responderBecameWritable()
    }

    func connectionDidClose(_ connection: Connection, error: ConnectionError?) {
        machine.connectionClosed()
        if let timer {
            loop.cancelTimer(timer)
            self.timer = nil
        }
        if let responder, !responder.isFinished {
            responder.connectionClosed()
        }
        responder = nil
        owner.connectionClosed(self)
    }

    // MARK: - Server stop

    func serverStopping() {
        act(machine.stopRequested())
    }

    func forceClose() {
        connection.close(.immediately)
    }

    // MARK: - Parsing

    /// Parses pending input for as long as requests may be parsed, then drops what was consumed.
    func processPendingInput() {
        guard !isProcessingInput, !pendingInput.isEmpty else { return }
        isProcessingInput = true
        let consumed = pendingInput.withUnsafeBytes { consumeInput($0) }
        isProcessingInput = false
        if connection.isOpen {
            pendingInput.removeFirst(consumed)
        } else {
            pendingInput = []
        }
    }

    /// Parses and acts on requests in `bytes` until parsing must wait; returns the bytes consumed.
    private func consumeInput(_ bytes: UnsafeRawBufferPointer) -> Int {
        var offset = 0
        while canParse && connection.isOpen {
            // After an event, parse again even with no bytes left: a request without a body ends
            // right after its head, and the parser reports that end on the next call.
            let consumed = parseStep(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
            offset += consumed
            let acted = actOnParseStep()
            if !acted && (consumed == 0 || offset == bytes.count) { break }
        }
        return offset
    }

    /// One call into the parser. Stops after a head or a request's end so the state machine sees
    /// them with the parser's framing at hand (it cannot be read inside the parser's callback).
    private func parseStep(_ bytes: UnsafeRawBufferPointer) -> Int {
        do {
            return try parser.parse(bytes) { event in
                switch event {
                case .head(let head):
                    parsedHead = head
                    return .pause
                case .body(let chunk):
                    let action = machine.bodyReceived(byteCount: chunk.count, now: loop.now)
                    if action != .none {
                        parsedRejection = action
                        return .pause
                    }
                    body.append(contentsOf: chunk)
                    return .proceed
                case .end:
                    parsedRequestEnd = true
                    return .pause
                }
            }
        } catch {
            parsedRejection = machine.parseFailed(status: error.suggestedStatus)
            return 0
        }
    }

    /// Acts on what the last parse step found; returns whether it found anything.
    private func actOnParseStep() -> Bool {
        var found = false
        if let head = parsedHead {
            parsedHead = nil
            found = true
            currentHead = head
            currentAdmission = nil
            let action = machine.headReceived(head, framing: parser.bodyFraming, now: loop.now)
            if machine.awaitsBody {
                switch owner.handler.decideBeforeBody(request(head, body: [])) {
                case .readBody(let admission):
                    currentAdmission = admission
                case .refuse(let answer):
                    // Refused on the head: no 100 Continue, no body read; the answer ends the connection.
                    act(machine.requestRefusedBeforeBody())
                    currentHead = nil
                    answer(makeResponder(for: head))
                    return true
                }
            }
            act(action)
        }
        if let rejection = parsedRejection {
            parsedRejection = nil
            act(rejection)
            return true
        }
        if parsedRequestEnd {
            parsedRequestEnd = false
            found = true
            act(machine.requestEnded())
        }
        return found
    }

    // MARK: - Acting

    func act(_ action: HTTPServerConnectionStateMachine.Action) {
        switch action {
        case .none:
            break
        case .sendContinue:
            connection.write(Self.continueResponse)
        case .deliverRequest:
            deliverRequest()
        case .resumeParsing:
            if connection.isWritable {
                resumeParsing()
            } else {
                // Pending output above the high-water mark: read no more requests until it drains.
                resumeParsingWhenDrained = true
            }
        case .rejectAndClose(let status):
            writeRejection(status: status)
            connection.close(.afterFlush)
        case .closeAfterFlush, .closeNow:
            // Both send FIN after any pending output; with nothing pending that is at once.
            connection.close(.afterFlush)
        }
        syncTimer()
    }

    private func deliverRequest() {
        guard let head = currentHead else { return }
        currentHead = nil
        let responder = makeResponder(for: head)
        let request = request(head, body: body, admission: currentAdmission)
        currentAdmission = nil
        body = []
        owner.handler.handle(request, responder: responder)
    }

    private func request(_ head: HTTPRequestHead, body: [UInt8], admission: AnyObject? = nil) -> HTTPServerRequest {
        HTTPServerRequest(head: head, body: body, remoteAddress: connection.remoteAddress, isTLS: connection.isTLS,
                          eventLoop: loop, admission: admission)
    }

    /// The responder of the request now answered; the connection holds it until the answer ends.
    private func makeResponder(for head: HTTPRequestHead) -> HTTPResponder {
        let responder = HTTPResponder(owner: self, method: head.method, version: head.version)
        self.responder = responder
        return responder
    }

    private func resumeParsing() {
        guard connection.isOpen else { return }
        if !isProcessingInput { processPendingInput() }
        if pausedForBufferedInput && canParse {
            pausedForBufferedInput = false
            connection.resumeReading()
        }
    }

    /// A short plain-text answer with `Connection: close` (parse errors, 408, 413).
    private func writeRejection(status: Int) {
        let reason = HTTPSerializer.reasonPhrase(for: status)
        let text = "\(status) \(reason)\n"
        let message = "HTTP/1.1 \(status) \(reason)\r\nContent-Type: text/plain\r\n"
            + "Content-Length: \(text.utf8.count)\r\nConnection: close\r\n\r\n" + text
        connection.write(Array(message.utf8))
    }

    // MARK: - Deadline

    /// Keeps one loop timer at or before the state machine's deadline. A deadline that moves later
    /// leaves the timer alone; when it fires early the machine ignores it and it is re-armed. So a
    /// request costs no timer-heap work unless it actually moves the deadline earlier.
    func syncTimer() {
        guard let deadline = machine.deadline else { return }
        if let timer {
            guard deadline < timerDeadline else { return }
            loop.cancelTimer(timer)
        }
        timerDeadline = deadline
        timer = loop.scheduleTimer(at: deadline, timerFired)
    }

    /// Made once per connection, so arming the timer allocates no closure.
    private lazy var timerFired: () -> Void = { [unowned self] in
        timer = nil
        act(machine.timerFired(now: loop.now))
    }
}
