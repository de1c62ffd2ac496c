import CSystem
import Glibc
import HTTP1

/// One upstream connection of a pool: a `Connection` (plain or TLS), the response parser, and the
/// exchange in flight. Loop-confined. It feeds `HTTPClientConnectionStateMachine` with what the
/// socket reports and does what the machine answers; the pool hears of every change that matters
/// to it (ready, released, closed, request failed).
///
/// Any outward call (to the pool, to a delegate, to the socket) may come back in here and close
/// the connection, so each step checks the machine's state again before going on.
final class HTTPClientConnection: ConnectionDelegate, HTTPClientExchangeControlling {
    let id: Int
    private let pool: HTTPClientPool
    private var connection: Connection?
    private var machine: HTTPClientConnectionStateMachine
    private var parser: HTTPResponseParser
    private var request: HTTPClientRequest?
    private var control: HTTPClientStreamControl?

    /// Bytes the parser did not consume yet (an incomplete head or chunk-size line).
    private var unparsed: [UInt8] = []
    /// Set by the parse callback; acted on once `parse` has returned.
    private var responseEndTrailers: HTTPHeaders??
    /// True while `parser.parse` runs: a delegate called from inside may cancel the exchange, and
    /// the buffers being parsed must then be left alone until `parse` returns.
    private var isParsing = false
    private var responseTimer: TimerID?
    /// `Connection.bytesSent` when the current request started to be written, and whether the
    /// socket has taken any of its bytes since (a failed POST may be resent only when not).
    private var bytesSentBeforeRequest: UInt64 = 0
    private var requestBytesWereSent = false
    private var lastResponseProgress: UInt64 = 0

    init(id: Int, pool: HTTPClientPool) {
        self.id = id
        self.pool = pool
        machine = HTTPClientConnectionStateMachine(usesTLS: pool.settings.tls != nil)
        parser = HTTPResponseParser(limits: pool.settings.limits)
    }

    private var settings: HTTPClientConnectionSettings { pool.settings }
    private var loop: EventLoop { pool.loop }

    // MARK: Commands from the pool

    func connect() {
        switch settings.address {
        case .failure(let error):
            // Reported on the next loop pass, like every other connect outcome.
            loop.runSoon { [self] in perform(machine.failed(error)) }
        case .success(let address):
            let connection = Connection.connect(
                to: address, on: loop, tls: settings.tls, serverName: settings.serverName,
                timeout: settings.connectTimeout, delegate: self)
            // Everything queued is this connection's own request: `isWritable` turning false at the
            // first pending byte and `connectionDidDrain` at zero tell when the request is out.
            connection.highWaterMark = 0
            connection.lowWaterMark = 0
            connection.writeTimeout = .nanoseconds(Int64(clamping: settings.responseTimeoutNanoseconds))
            self.connection = connection
        }
    }

    /// Whether an idle connection can take a request: it is idle, open, and no end of input was
    /// seen. Idle connections stay read-armed, so a close the loop has already been told of has
    /// removed them from the pool; what is left is a close that arrived since the loop last
    /// waited for events. For a request that may be sent again that race costs nothing (a reused
    /// connection failing before any response byte is retried on a fresh one), so `probingSocket`
    /// is false and no system call is made. Otherwise (a POST, whose bytes may not be sent twice)
    /// one non-blocking `recv(MSG_PEEK)` looks: nothing waiting (plain TCP) or no end of input
    /// (TLS, where a session ticket may be waiting) means usable.
    func isStillUsable(probingSocket: Bool) -> Bool {
        guard machine.state == .idleInPool, let connection, connection.isOpen, !connection.hasReadEOF else {
            return false
        }
        guard probingSocket else { return true }
        var byte: UInt8 = 0
        let result = recv(connection.fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        if result == 0 { return false }
        if result > 0 { return connection.isTLS }
        let error = tb_errno()
        return error == EAGAIN || error == EWOULDBLOCK || error == EINTR
    }

    func startRequest(_ request: HTTPClientRequest, connectionWasReused: Bool) {
        let action = machine.requestStarted(connectionWasReused: connectionWasReused,
                                            requestAllowsReuse: request.allowsConnectionReuse)
        self.request = request
        perform(action)
    }

    /// Closes without telling the pool (the pool asked: idle eviction, shutdown, a stale lease).
    func closeWithoutNotifying() {
        switch machine.closeRequested() {
        case .closeIdle, .failConnect, .failExchange:
            tearDown()
        case .none, .startTLSHandshake, .reportReady, .writeRequest, .stopReading, .resumeReading,
             .releaseToPool, .closeAfterResponse:
            break
        }
    }

    // MARK: Stream control

    func pauseReading() {
        perform(machine.pauseReading())
    }

    func resumeReading() {
        perform(machine.resumeReading())
    }

    func cancelExchange() {
        guard request != nil else { return }
        perform(machine.closeRequested())
    }

    // MARK: ConnectionDelegate

    func connectionDidConnect(_ connection: Connection) {
        var action = machine.connectSucceeded()
        // The connection finished the TLS handshake (with verification) before reporting.
        if action == .startTLSHandshake { action = machine.tlsHandshakeSucceeded() }
        perform(action)
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        let action = machine.responseBytesReceived()
        guard action == .none else {
            perform(action)
            return
        }
        lastResponseProgress = loop.now
        guard request != nil else { return }
        parseResponse(bytes)
    }

    func connectionDidReadEOF(_ connection: Connection) {
        switch machine.state {
        case .receivingBody, .awaitingHead, .sendingRequest:
            finishResponseAtEndOfInput()
        case .idleInPool:
            perform(machine.failed(HTTPClientError(kind: .connectionClosed,
                                                   detail: "\(settings.upstreamDescription): closed while idle")))
        case .connecting, .tlsHandshaking, .closing, .closed:
            break
        }
        if machine.state != .closed, machine.state != .closing {
            perform(machine.failed(HTTPClientError(kind: .connectionClosed,
                                                   detail: "\(settings.upstreamDescription): end of input")))
        }
    }

    func connectionDidDrain(_ connection: Connection) {
        guard connection.pendingWriteBytes == 0 else { return }
        requestWasWritten()
    }

    func connectionDidClose(_ connection: Connection, error: ConnectionError?) {
        noteRequestProgress(of: connection)
        self.connection = nil
        switch machine.state {
        case .closing, .closed:
            machine.closeCompleted()
            cancelResponseTimer()
        case .connecting, .tlsHandshaking:
            let upstream = settings.upstreamDescription
            let failure = error.map { HTTPClientError($0, upstream: upstream, whileConnecting: true) }
                ?? HTTPClientError(kind: .connectFailed, detail: "\(upstream): closed while connecting")
            perform(machine.failed(failure))
        case .idleInPool, .sendingRequest, .awaitingHead, .receivingBody:
            let failure = error.map {
                HTTPClientError($0, upstream: settings.upstreamDescription, whileConnecting: false)
            } ?? HTTPClientError(kind: .connectionClosed, detail: "\(settings.upstreamDescription): connection closed")
            perform(machine.failed(failure))
        }
    }

    // MARK: Acting

    private func perform(_ action: HTTPClientConnectionStateMachine.Action) {
        switch action {
        case .none, .startTLSHandshake:
            break

        case .reportReady:
            pool.connectionEstablished(self)

        case .writeRequest:
            writeRequest()

        case .stopReading:
            connection?.pauseReading()
            cancelResponseTimer()

        case .resumeReading:
            connection?.resumeReading()
            armResponseTimer()

        case .releaseToPool:
            // The response timer stays scheduled: it finds nothing to watch when it fires, and the
            // next request on this connection reuses it instead of scheduling another.
            pool.connectionReleased(self)

        case .closeAfterResponse:
            cancelResponseTimer()
            // Orderly: the upstream said this was the last response, or is still reading our body.
            connection?.close(.afterFlush)
            pool.connectionClosed(self)

        case .failConnect(let error):
            tearDown()
            pool.connectionFailedToConnect(self, error: error)

        case .failExchange(let error, let connectionWasReused):
            if let connection { noteRequestProgress(of: connection) }
            let request = endExchange()
            tearDown()
            if let request {
                pool.requestFailed(request, on: self, error: error, connectionWasReused: connectionWasReused,
                                   requestBytesWereSent: requestBytesWereSent)
            }

        case .closeIdle:
            tearDown()
            pool.connectionClosed(self)
        }
    }

    private func writeRequest() {
        guard let request, let connection else { return }
        parser.expectResponse(toMethod: request.method)
        bytesSentBeforeRequest = connection.bytesSent
        requestBytesWereSent = false
        // Head and body leave in one gathered write.
        connection.write(request.serializedHead, request.body)
        noteRequestProgress(of: connection)
        if connection.isOpen, connection.pendingWriteBytes == 0 { requestWasWritten() }
    }

    private func noteRequestProgress(of connection: Connection) {
        if connection.bytesSent != bytesSentBeforeRequest { requestBytesWereSent = true }
    }

    private func requestWasWritten() {
        perform(machine.requestWritten())
        if machine.responseTimerIsActive { armResponseTimer() }
    }

    /// Detaches the request and the stream control of the exchange that just ended.
    private func endExchange() -> HTTPClientRequest? {
        let request = self.request
        self.request = nil
        control?.target = nil
        control = nil
        return request
    }

    /// Closes the socket at once and stops the timer; the state machine has already moved on.
    private func tearDown() {
        cancelResponseTimer()
        if !isParsing { unparsed.removeAll(keepingCapacity: true) }
        let connection = self.connection
        self.connection = nil
        connection?.close(.immediately)
    }

    // MARK: Parsing

    private func parseResponse(_ bytes: UnsafeRawBufferPointer) {
        responseEndTrailers = nil
        var excess = 0
        isParsing = true
        defer {
            isParsing = false
            if !isExchangeLive, machine.state != .idleInPool { unparsed.removeAll(keepingCapacity: true) }
        }
        do {
            if unparsed.isEmpty {
                let consumed = try parser.parse(bytes, handleParserEvent)
                let rest = bytes.count - consumed
                if responseEndTrailers != nil {
                    excess = rest
                } else if rest > 0, isExchangeLive {
                    unparsed.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[consumed...]))
                }
            } else {
                unparsed.append(contentsOf: bytes)
                let consumed = try unparsed.withUnsafeBytes { try parser.parse($0, handleParserEvent) }
                if responseEndTrailers != nil {
                    excess = unparsed.count - consumed
                    unparsed.removeAll(keepingCapacity: true)
                } else if isExchangeLive {
                    unparsed.removeFirst(consumed)
                }
            }
        } catch {
            guard isExchangeLive else { return }
            perform(machine.failed(HTTPClientError(
                kind: .protocolError, detail: "\(settings.upstreamDescription): \(error)")))
            return
        }
        if let trailers = responseEndTrailers, isExchangeLive {
            responseEnded(trailers: trailers, reusable: excess == 0 && parser.isIdle)
        }
    }

    /// The end of input arrived during an exchange: a close-delimited body ends here; anything
    /// else was cut short.
    private func finishResponseAtEndOfInput() {
        responseEndTrailers = nil
        let cutShort: String?
        do {
            try parser.finish(handleParserEvent)
            cutShort = responseEndTrailers == nil ? "closed before the response head" : nil
        } catch {
            cutShort = "\(error)"
        }
        guard isExchangeLive else { return }
        if let trailers = responseEndTrailers {
            responseEnded(trailers: trailers, reusable: false)
        } else {
            perform(machine.failed(HTTPClientError(
                kind: .connectionClosed, detail: "\(settings.upstreamDescription): \(cutShort ?? "closed")")))
        }
    }

    private var isExchangeLive: Bool {
        switch machine.state {
        case .sendingRequest, .awaitingHead, .receivingBody: return request != nil
        case .connecting, .tlsHandshaking, .idleInPool, .closing, .closed: return false
        }
    }

    /// Delivers one parser event. Runs inside `parser.parse`, so it must not touch `parser`.
    private func handleParserEvent(_ event: HTTPResponseParserEvent) -> HTTPParserAction {
        guard isExchangeLive, let request else { return .pause }
        switch event {
        case .informational:
            return .proceed
        case .head(let head):
            // A close-delimited body ends only with the input, which closes the connection anyway,
            // so the head's own keep-alive answer is enough here. 101 leaves HTTP/1.1 behind.
            perform(machine.responseHeadReceived(allowsReuse: head.keepAlive && head.status != 101))
            armResponseTimer()
            let control = HTTPClientStreamControl(target: self)
            self.control = control
            request.delegate.responseHead(head, control: control)
        case .body(let bytes):
            request.delegate.responseBody(Array(bytes))
        case .end(let trailers):
            responseEndTrailers = .some(trailers)
            return .pause
        }
        return isExchangeLive ? .proceed : .pause
    }

    private func responseEnded(trailers: HTTPHeaders?, reusable: Bool) {
        let action = machine.responseEnded(parserIsIdleWithoutExcess: reusable)
        guard let request = endExchange() else { return }
        // Back in the pool before the delegate hears of the end, so that a request the delegate
        // sends next can take this very connection.
        perform(action)
        request.delegate.responseEnd(trailers: trailers)
    }

    // MARK: Response timer

    /// (Re)starts the response timeout from now. One timer per connection: it is rescheduled when
    /// it fires early, so progress costs a clock read, not a timer operation.
    private func armResponseTimer() {
        lastResponseProgress = loop.now
        guard responseTimer == nil else { return }
        scheduleResponseTimer(after: settings.responseTimeoutNanoseconds)
    }

    /// The timer holds the connection until it fires or is cancelled (every teardown cancels it;
    /// at worst a closed connection lives one response timeout longer, and its firing finds no
    /// exchange). Not a weak reference: that would give this long-lived object a side table and put
    /// every retain and release of it, several per request, on the runtime's slow path.
    private func scheduleResponseTimer(after nanoseconds: UInt64) {
        responseTimer = loop.scheduleTimer(after: .nanoseconds(Int64(clamping: nanoseconds))) { [self] in
            responseTimerFired()
        }
    }

    private func responseTimerFired() {
        responseTimer = nil
        guard machine.responseTimerIsActive else { return }
        let deadline = lastResponseProgress &+ settings.responseTimeoutNanoseconds
        let now = loop.now
        if now < deadline {
            scheduleResponseTimer(after: deadline - now)
            return
        }
        perform(machine.timedOut(HTTPClientError(
            kind: .timeout,
            detail: "\(settings.upstreamDescription): no response progress within the response timeout")))
    }

    private func cancelResponseTimer() {
        if let responseTimer {
            loop.cancelTimer(responseTimer)
            self.responseTimer = nil
        }
    }
}
