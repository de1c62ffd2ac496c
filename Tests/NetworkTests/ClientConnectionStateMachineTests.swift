import Testing
@testable import Network

@Suite("Upstream connection state machine")
struct ClientConnectionStateMachineTests {
    typealias Machine = HTTPClientConnectionStateMachine

    private let reset = HTTPClientError(kind: .connectionClosed, detail: "read: ECONNRESET")

    private func idleMachine(usesTLS: Bool = false) -> Machine {
        var machine = Machine(usesTLS: usesTLS)
        _ = machine.connectSucceeded()
        if usesTLS { _ = machine.tlsHandshakeSucceeded() }
        return machine
    }

    @Test("a plain connection is ready as soon as connect succeeds")
    func plainConnectIsReady() {
        var machine = Machine(usesTLS: false)
        #expect(machine.connectSucceeded() == .reportReady)
        #expect(machine.state == .idleInPool)
    }

    @Test("a TLS connection handshakes before it is ready")
    func tlsHandshakesFirst() {
        var machine = Machine(usesTLS: true)
        #expect(machine.connectSucceeded() == .startTLSHandshake)
        #expect(machine.state == .tlsHandshaking)
        #expect(machine.tlsHandshakeSucceeded() == .reportReady)
        #expect(machine.state == .idleInPool)
    }

    @Test("a failing connect or handshake reports a connect failure")
    func connectFailure() {
        let refused = HTTPClientError(kind: .connectFailed, detail: "connect: ECONNREFUSED")
        var plain = Machine(usesTLS: false)
        #expect(plain.failed(refused) == .failConnect(refused))
        #expect(plain.state == .closed)

        let badCertificate = HTTPClientError(kind: .tlsFailed, detail: "certificate verify failed")
        var tls = Machine(usesTLS: true)
        _ = tls.connectSucceeded()
        #expect(tls.failed(badCertificate) == .failConnect(badCertificate))
        #expect(tls.state == .closed)
    }

    @Test("a keep-alive exchange returns the connection to the pool")
    func keepAliveExchange() {
        var machine = idleMachine()
        #expect(machine.requestStarted(connectionWasReused: false, requestAllowsReuse: true) == .writeRequest)
        #expect(!machine.responseTimerIsActive)
        #expect(machine.requestWritten() == .none)
        #expect(machine.responseTimerIsActive)
        #expect(machine.state == .awaitingHead(Machine.Exchange(
            connectionWasReused: false, requestAllowsReuse: true, requestWritten: true)))
        #expect(machine.responseBytesReceived() == .none)
        #expect(machine.responseHeadReceived(allowsReuse: true) == .none)
        #expect(machine.responseEnded(parserIsIdleWithoutExcess: true) == .releaseToPool)
        #expect(machine.state == .idleInPool)
        #expect(!machine.responseTimerIsActive)
    }

    @Test("a response that forbids reuse closes the connection after it ends")
    func responseConnectionClose() {
        var machine = idleMachine()
        _ = machine.requestStarted(connectionWasReused: true, requestAllowsReuse: true)
        _ = machine.requestWritten()
        _ = machine.responseHeadReceived(allowsReuse: false)
        #expect(machine.responseEnded(parserIsIdleWithoutExcess: true) == .closeAfterResponse)
        #expect(machine.state == .closing)
        machine.closeCompleted()
        #expect(machine.state == .closed)
    }

    @Test("a request that says Connection: close closes the connection after the response")
    func requestConnectionClose() {
        var machine = idleMachine()
        _ = machine.requestStarted(connectionWasReused: false, requestAllowsReuse: false)
        _ = machine.requestWritten()
        _ = machine.responseHeadReceived(allowsReuse: true)
        #expect(machine.responseEnded(parserIsIdleWithoutExcess: true) == .closeAfterResponse)
    }

    @Test("excess bytes after a response make the connection unusable")
    func excessBytesClose() {
        var machine = idleMachine()
        _ = machine.requestStarted(connectionWasReused: false, requestAllowsReuse: true)
        _ = machine.requestWritten()
        _ = machine.responseHeadReceived(allowsReuse: true)
        #expect(machine.responseEnded(parserIsIdleWithoutExcess: false) == .closeAfterResponse)
    }

    @Test("a response that ends before the request was fully written closes the connection")
    func earlyResponse() {
        var machine = idleMachine()
        _ = machine.requestStarted(connectionWasReused: false, requestAllowsReuse: true)
        _ = machine.responseHeadReceived(allowsReuse: true)
        #expect(machine.responseEnded(parserIsIdleWithoutExcess: true) == .closeAfterResponse)

        var late = idleMachine()
        _ = late.requestStarted(connectionWasReused: false, requestAllowsReuse: true)
        _ = late.responseHeadReceived(allowsReuse: true)
        _ = late.requestWritten()
        #expect(late.responseEnded(parserIsIdleWithoutExcess: true) == .releaseToPool)
    }

    @Test("a reused connection failing before any response byte reports no bytes received")
    func failureBeforeBytes() {
        var machine = idleMachine()
        _ = machine.requestStarted(connectionWasReused: true, requestAllowsReuse: true)
        _ = machine.requestWritten()
        #expect(machine.failed(reset) == .failExchange(reset, connectionWasReused: true))
        #expect(machine.state == .closed)
        #expect(machine.failed(reset) == .none)
    }

    @Test("a failure after a partial head reports that response bytes arrived")
    func failureAfterPartialHead() {
        var machine = idleMachine()
        _ = machine.requestStarted(connectionWasReused: true, requestAllowsReuse: true)
        _ = machine.requestWritten()
        _ = machine.responseBytesReceived()
        var expected = reset
        expected.receivedResponseBytes = true
        #expect(machine.failed(reset) == .failExchange(expected, connectionWasReused: true))
    }

    @Test("a failure while the body streams reports that response bytes arrived")
    func failureMidBody() {
        var machine = idleMachine()
        _ = machine.requestStarted(connectionWasReused: false, requestAllowsReuse: true)
        _ = machine.requestWritten()
        _ = machine.responseHeadReceived(allowsReuse: true)
        var expected = reset
        expected.receivedResponseBytes = true
        #expect(machine.failed(reset) == .failExchange(expected, connectionWasReused: false))
    }

    @Test("bytes or end of input on an idle connection close it")
    func idleConnectionGoesBad() {
        var readable = idleMachine()
        #expect(readable.responseBytesReceived() == .closeIdle)
        #expect(readable.state == .closed)

        var hungUp = idleMachine(usesTLS: true)
        #expect(hungUp.failed(reset) == .closeIdle)
        #expect(hungUp.state == .closed)
    }

    @Test("pausing stops reading and the response timer, resuming restarts both")
    func pauseAndResume() {
        var machine = idleMachine()
        #expect(machine.pauseReading() == .none)  // nothing to pause before the head
        _ = machine.requestStarted(connectionWasReused: false, requestAllowsReuse: true)
        _ = machine.requestWritten()
        _ = machine.responseHeadReceived(allowsReuse: true)
        #expect(machine.pauseReading() == .stopReading)
        #expect(machine.pauseReading() == .none)
        #expect(machine.isReadingPaused)
        #expect(!machine.responseTimerIsActive)
        #expect(machine.resumeReading() == .resumeReading)
        #expect(machine.resumeReading() == .none)
        #expect(machine.responseTimerIsActive)
    }

    @Test("a timeout fails the exchange like any other failure")
    func timeout() {
        let timeout = HTTPClientError(kind: .timeout, detail: "no response head within 1s")
        var machine = idleMachine()
        _ = machine.requestStarted(connectionWasReused: true, requestAllowsReuse: true)
        #expect(machine.timedOut(timeout) == .failExchange(timeout, connectionWasReused: true))
    }

    @Test("closing an idle connection on request, and cancelling an exchange")
    func closeRequested() {
        var idle = idleMachine()
        #expect(idle.closeRequested() == .closeIdle)
        #expect(idle.closeRequested() == .none)

        var busy = idleMachine()
        _ = busy.requestStarted(connectionWasReused: false, requestAllowsReuse: true)
        guard case .failExchange(let error, _) = busy.closeRequested() else {
            Issue.record("cancelling an exchange must fail it")
            return
        }
        #expect(error.kind == .poolClosed)
        #expect(busy.state == .closed)
    }

    @Test("events that do not apply to a state change nothing")
    func irrelevantEvents() {
        var machine = Machine(usesTLS: false)
        #expect(machine.tlsHandshakeSucceeded() == .none)
        #expect(machine.requestWritten() == .none)
        #expect(machine.responseHeadReceived(allowsReuse: true) == .none)
        #expect(machine.responseEnded(parserIsIdleWithoutExcess: true) == .none)
        #expect(machine.state == .connecting(usesTLS: false))
    }
}
