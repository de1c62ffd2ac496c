import HTTP1
import Testing
@testable import Network

@Suite("Server connection state machine (no sockets, injected time)")
struct HTTPServerConnectionStateMachineTests {
    typealias Machine = HTTPServerConnectionStateMachine
    static let second: UInt64 = 1_000_000_000
    static let timeouts = Machine.Timeouts(header: 30 * second, idle: 75 * second)

    static func head(
        _ method: String = "GET", version: HTTPVersion = .http1_1, _ fields: [(String, String)] = []
    ) -> HTTPRequestHead {
        HTTPRequestHead(method: method, target: "/", version: version, headers: HTTPHeaders([("Host", "x")] + fields))
    }

    static func machine() -> Machine { Machine(now: 0, timeouts: timeouts, maxBodyBytes: 100) }

    @Test("a new connection that sends nothing is closed at the header timeout, without a 408")
    func silentConnection() {
        var machine = Self.machine()
        #expect(machine.deadline == 30 * Self.second)
        #expect(machine.timerFired(now: 29 * Self.second) == .none)
        #expect(machine.timerFired(now: 30 * Self.second) == .closeNow)
        #expect(machine.state == .closed)
    }

    @Test("a request walks head, end, response and returns to idle with the idle deadline")
    func requestCycle() {
        var machine = Self.machine()
        machine.requestBytesArrived(now: 1 * Self.second)
        #expect(machine.state == .readingHead)
        #expect(machine.deadline == 31 * Self.second)
        #expect(machine.headReceived(Self.head(), framing: .none, now: 2 * Self.second) == .none)
        #expect(machine.requestEnded() == .deliverRequest)
        #expect(machine.deadline == nil)
        #expect(machine.responseEnded(now: 10 * Self.second) == .resumeParsing)
        #expect(machine.state == .idle)
        #expect(machine.deadline == 85 * Self.second)
        #expect(machine.timerFired(now: 85 * Self.second) == .closeNow)
    }

    @Test("a request refused on its head is answered without its body and ends the connection")
    func refusedBeforeBody() {
        var machine = Self.machine()
        machine.requestBytesArrived(now: 0)
        #expect(machine.headReceived(Self.head("PUT", [("Content-Length", "50"), ("Expect", "100-continue")]),
                                     framing: .length(50), now: 0) == .sendContinue)
        #expect(machine.awaitsBody)
        #expect(machine.requestRefusedBeforeBody() == .none)
        #expect(machine.state == .responding)
        #expect(machine.deadline == nil)
        #expect(!machine.keepAlive)
        #expect(machine.responseEnded(now: 1) == .closeAfterFlush)

        var bodiless = Self.machine()
        bodiless.requestBytesArrived(now: 0)
        #expect(bodiless.headReceived(Self.head(), framing: .none, now: 0) == .none)
        #expect(!bodiless.awaitsBody, "a request without a body is never refused early")
        var empty = Self.machine()
        empty.requestBytesArrived(now: 0)
        #expect(empty.headReceived(Self.head("POST", [("Content-Length", "0")]), framing: .length(0), now: 0) == .none)
        #expect(!empty.awaitsBody)
    }

    @Test("a head that stalls past the header timeout is answered 408")
    func headTimeout() {
        var machine = Self.machine()
        machine.requestBytesArrived(now: 0)
        #expect(machine.timerFired(now: 30 * Self.second) == .rejectAndClose(status: 408))
        #expect(machine.state == .closing)
        #expect(!machine.keepAlive)
    }

    @Test("Expect: 100-continue is answered only for HTTP/1.1 requests with a body")
    func expectContinue() {
        var withBody = Self.machine()
        #expect(withBody.headReceived(Self.head("PUT", [("Expect", "100-continue")]), framing: .length(5), now: 0)
                == .sendContinue)
        var withoutBody = Self.machine()
        #expect(withoutBody.headReceived(Self.head("GET", [("Expect", "100-continue")]), framing: .none, now: 0)
                == .none)
        var old = Self.machine()
        #expect(old.headReceived(Self.head("PUT", version: .http1_0, [("Expect", "100-continue")]),
                                 framing: .length(5), now: 0) == .none)
    }

    @Test("a body over the limit is refused with 413, declared or counted")
    func bodyLimit() {
        var declared = Self.machine()
        #expect(declared.headReceived(Self.head("POST"), framing: .length(101), now: 0) == .rejectAndClose(status: 413))
        var counted = Self.machine()
        #expect(counted.headReceived(Self.head("POST"), framing: .chunked, now: 0) == .none)
        #expect(counted.bodyReceived(byteCount: 100, now: 0) == .none)
        #expect(counted.bodyReceived(byteCount: 1, now: 0) == .rejectAndClose(status: 413))
    }

    @Test("Connection: close, HTTP/1.0 without keep-alive, and a close-delimited response end the connection")
    func lastResponse() {
        var close = Self.machine()
        _ = close.headReceived(Self.head("GET", [("Connection", "close")]), framing: .none, now: 0)
        _ = close.requestEnded()
        #expect(close.responseEnded(now: 0) == .closeAfterFlush)

        var old = Self.machine()
        _ = old.headReceived(Self.head("GET", version: .http1_0), framing: .none, now: 0)
        _ = old.requestEnded()
        #expect(old.responseEnded(now: 0) == .closeAfterFlush)

        var delimited = Self.machine()
        _ = delimited.headReceived(Self.head(), framing: .none, now: 0)
        _ = delimited.requestEnded()
        delimited.responseRequiresClose()
        #expect(delimited.responseEnded(now: 0) == .closeAfterFlush)
    }

    @Test("EOF closes a connection between requests but lets a response in progress finish")
    func endOfInput() {
        var idle = Self.machine()
        #expect(idle.inputEnded() == .closeNow)

        var responding = Self.machine()
        _ = responding.headReceived(Self.head(), framing: .none, now: 0)
        _ = responding.requestEnded()
        #expect(responding.inputEnded() == .none)
        #expect(responding.responseEnded(now: 0) == .closeAfterFlush)
    }

    @Test("stopping closes idle connections at once and the others after their response")
    func stopping() {
        var idle = Self.machine()
        #expect(idle.stopRequested() == .closeNow)

        var busy = Self.machine()
        _ = busy.headReceived(Self.head(), framing: .none, now: 0)
        _ = busy.requestEnded()
        #expect(busy.stopRequested() == .none)
        #expect(busy.responseEnded(now: 0) == .closeAfterFlush)
    }

    @Test("a parse error is answered with its status only when no response is in progress")
    func parseErrors() {
        var reading = Self.machine()
        reading.requestBytesArrived(now: 0)
        #expect(reading.parseFailed(status: 431) == .rejectAndClose(status: 431))

        var responding = Self.machine()
        _ = responding.headReceived(Self.head(), framing: .none, now: 0)
        _ = responding.requestEnded()
        #expect(responding.parseFailed(status: 400) == .none)
    }
}

@Suite("Timer heap")
struct TimerHeapTests {
    @Test("due timers pop in deadline order, cancelled ones never, and compaction keeps order")
    func order() {
        var heap = TimerHeap()
        var fired: [Int] = []
        var ids: [TimerID] = []
        for index in 0..<200 {
            let deadline = UInt64((index * 37) % 200)
            ids.append(heap.schedule(at: deadline) { fired.append(Int(deadline)) })
        }
        for (index, id) in ids.enumerated() where index % 3 != 0 { heap.cancel(id) }
        #expect(heap.count == 67)
        while let action = heap.popDue(now: 1000) { action() }
        #expect(fired == fired.sorted())
        #expect(fired.count == 67)
        #expect(heap.nextDeadline() == nil)
    }

    @Test("nothing pops before its deadline")
    func notEarly() {
        var heap = TimerHeap()
        _ = heap.schedule(at: 50) {}
        #expect(heap.popDue(now: 49) == nil)
        #expect(heap.nextDeadline() == 50)
        #expect(heap.popDue(now: 50) != nil)
    }
}
