/// The life of one upstream connection, from connect to close, as a pure state machine: the
/// connection object reports what happened on its socket and performs the action it gets back.
/// Time never enters here; the owner turns timer expiry into `timedOut(_:)`.
///
///     connecting ──> tlsHandshaking ──> idleInPool <──────────────────────────────┐
///         │                │               │ requestStarted                       │ responseEnded
///         └── failed ──────┴──> closed     v                                      │ (reusable)
///                                  sendingRequest ──> awaitingHead ──> receivingBody
///                                          (any failure: closed; not reusable: closing ──> closed)
struct HTTPClientConnectionStateMachine: Sendable {
    enum State: Equatable, Sendable {
        case connecting(usesTLS: Bool)
        case tlsHandshaking
        case idleInPool
        case sendingRequest(Exchange)
        case awaitingHead(Exchange)
        case receivingBody(Exchange)
        case closing
        case closed
    }

    /// What is known about the request/response exchange in flight.
    struct Exchange: Equatable, Sendable {
        /// Whether this connection carried an exchange before this one. Only a reused connection's
        /// failure may be retried: a fresh one failing says something about the upstream.
        var connectionWasReused: Bool
        /// Whether the request said `Connection: close`.
        var requestAllowsReuse: Bool
        var requestWritten = false
        var receivedResponseBytes = false
        /// Set from the response head: keep-alive and not close-delimited.
        var responseAllowsReuse = true
        var readingPaused = false
    }

    enum Action: Equatable, Sendable {
        case none
        case startTLSHandshake
        /// Connected (and handshaken): hand the connection to the pool.
        case reportReady
        /// Serialize and write the request; the response timer starts.
        case writeRequest
        /// Stop watching the socket for reads; the response timer is suspended.
        case stopReading
        /// Watch the socket for reads again; the response timer restarts from now.
        case resumeReading
        /// The response ended and the connection may carry another exchange.
        case releaseToPool
        /// The response ended; close the connection and tell the pool it is gone.
        case closeAfterResponse
        /// Connecting or the handshake failed; close and tell the pool.
        case failConnect(HTTPClientError)
        /// The exchange failed; close, and let the pool decide whether to retry the request.
        case failExchange(HTTPClientError, connectionWasReused: Bool)
        /// An idle connection became unusable or was evicted; close and tell the pool.
        case closeIdle
    }

    private(set) var state: State

    init(usesTLS: Bool) {
        state = .connecting(usesTLS: usesTLS)
    }

    // MARK: Connecting

    mutating func connectSucceeded() -> Action {
        switch state {
        case .connecting(let usesTLS):
            if usesTLS {
                state = .tlsHandshaking
                return .startTLSHandshake
            }
            state = .idleInPool
            return .reportReady
        case .tlsHandshaking, .idleInPool, .sendingRequest, .awaitingHead, .receivingBody, .closing, .closed:
            return .none
        }
    }

    mutating func tlsHandshakeSucceeded() -> Action {
        switch state {
        case .tlsHandshaking:
            state = .idleInPool
            return .reportReady
        case .connecting, .idleInPool, .sendingRequest, .awaitingHead, .receivingBody, .closing, .closed:
            return .none
        }
    }

    // MARK: Exchange

    /// The pool leased this connection for a request.
    mutating func requestStarted(connectionWasReused: Bool, requestAllowsReuse: Bool) -> Action {
        switch state {
        case .idleInPool:
            state = .sendingRequest(Exchange(connectionWasReused: connectionWasReused,
                                             requestAllowsReuse: requestAllowsReuse))
            return .writeRequest
        case .connecting, .tlsHandshaking, .sendingRequest, .awaitingHead, .receivingBody, .closing, .closed:
            preconditionFailure("request started on a connection in state \(state)")
        }
    }

    /// The last byte of the request left for the socket.
    mutating func requestWritten() -> Action {
        switch state {
        case .sendingRequest(var exchange):
            exchange.requestWritten = true
            state = .awaitingHead(exchange)
            return .none
        case .receivingBody(var exchange):
            // The upstream answered before it read the whole request (an early 413, say).
            exchange.requestWritten = true
            state = .receivingBody(exchange)
            return .none
        case .connecting, .tlsHandshaking, .idleInPool, .awaitingHead, .closing, .closed:
            return .none
        }
    }

    /// Bytes arrived on the socket (before parsing). Informational responses and a partial head
    /// count: from here on the exchange can no longer be retried.
    mutating func responseBytesReceived() -> Action {
        switch state {
        case .sendingRequest(var exchange):
            exchange.receivedResponseBytes = true
            state = .sendingRequest(exchange)
            return .none
        case .awaitingHead(var exchange):
            exchange.receivedResponseBytes = true
            state = .awaitingHead(exchange)
            return .none
        case .idleInPool:
            // Nothing may arrive on an idle connection (RFC 9112 section 9.3: a server may send
            // a 408 before closing it); such a connection is not reusable.
            state = .closed
            return .closeIdle
        case .connecting, .tlsHandshaking, .receivingBody, .closing, .closed:
            return .none
        }
    }

    /// The parser delivered the final (non-1xx) response head.
    mutating func responseHeadReceived(allowsReuse: Bool) -> Action {
        switch state {
        case .sendingRequest(var exchange), .awaitingHead(var exchange):
            exchange.receivedResponseBytes = true
            exchange.responseAllowsReuse = allowsReuse
            state = .receivingBody(exchange)
            return .none
        case .connecting, .tlsHandshaking, .idleInPool, .receivingBody, .closing, .closed:
            return .none
        }
    }

    /// The parser delivered the end of the response. `parserIsIdleWithoutExcess` says the parser is
    /// between messages and no byte followed the response: anything extra would belong to no request.
    mutating func responseEnded(parserIsIdleWithoutExcess: Bool) -> Action {
        switch state {
        case .receivingBody(let exchange):
            if exchange.requestWritten, exchange.requestAllowsReuse, exchange.responseAllowsReuse,
               parserIsIdleWithoutExcess {
                state = .idleInPool
                return .releaseToPool
            }
            state = .closing
            return .closeAfterResponse
        case .connecting, .tlsHandshaking, .idleInPool, .sendingRequest, .awaitingHead, .closing, .closed:
            return .none
        }
    }

    mutating func pauseReading() -> Action {
        switch state {
        case .receivingBody(var exchange):
            guard !exchange.readingPaused else { return .none }
            exchange.readingPaused = true
            state = .receivingBody(exchange)
            return .stopReading
        case .connecting, .tlsHandshaking, .idleInPool, .sendingRequest, .awaitingHead, .closing, .closed:
            return .none
        }
    }

    mutating func resumeReading() -> Action {
        switch state {
        case .receivingBody(var exchange):
            guard exchange.readingPaused else { return .none }
            exchange.readingPaused = false
            state = .receivingBody(exchange)
            return .resumeReading
        case .connecting, .tlsHandshaking, .idleInPool, .sendingRequest, .awaitingHead, .closing, .closed:
            return .none
        }
    }

    var isReadingPaused: Bool {
        if case .receivingBody(let exchange) = state { return exchange.readingPaused }
        return false
    }

    /// Whether the response timer should run: the request is out, and reading is not paused (a
    /// downstream that stops draining is not the upstream's fault). While the request is being
    /// written, the connection's write timeout watches for progress instead.
    var responseTimerIsActive: Bool {
        switch state {
        case .awaitingHead: return true
        case .sendingRequest: return false
        case .receivingBody(let exchange): return !exchange.readingPaused
        case .connecting, .tlsHandshaking, .idleInPool, .closing, .closed: return false
        }
    }

    // MARK: Failures and closing

    /// A socket or TLS call failed, or end of input came where the response was incomplete.
    mutating func failed(_ error: HTTPClientError) -> Action {
        switch state {
        case .connecting, .tlsHandshaking:
            state = .closed
            return .failConnect(error)
        case .idleInPool:
            state = .closed
            return .closeIdle
        case .sendingRequest(let exchange), .awaitingHead(let exchange), .receivingBody(let exchange):
            state = .closed
            var error = error
            error.receivedResponseBytes = exchange.receivedResponseBytes
            return .failExchange(error, connectionWasReused: exchange.connectionWasReused)
        case .closing, .closed:
            return .none
        }
    }

    /// The connect or response timer fired while it was active.
    mutating func timedOut(_ error: HTTPClientError) -> Action {
        failed(error)
    }

    /// The pool evicts an idle connection, or the client shuts down.
    mutating func closeRequested() -> Action {
        switch state {
        case .idleInPool:
            state = .closed
            return .closeIdle
        case .connecting, .tlsHandshaking, .sendingRequest, .awaitingHead, .receivingBody:
            return failed(HTTPClientError(kind: .poolClosed, detail: "the request was cancelled"))
        case .closing, .closed:
            return .none
        }
    }

    mutating func closeCompleted() {
        state = .closed
    }
}
