import Dispatch
import Glibc
import Synchronization
import Testing
@testable import Network

@Suite("Event loops")
struct EventLoopTests {
    @Test("timers fire in deadline order and a cancelled timer never fires")
    func timersFireInOrder() throws {
        let group = EventLoopGroup(loopCount: 1)
        defer { group.shutdown() }
        let loop = group.loops[0]
        let fired = Waiter<String>()
        try loop.runAndWait {
            loop.scheduleTimer(after: .milliseconds(60)) { fired.record("late") }
            loop.scheduleTimer(after: .milliseconds(10)) { fired.record("early") }
            let cancelled = loop.scheduleTimer(after: .milliseconds(30)) { fired.record("cancelled") }
            loop.scheduleTimer(after: .milliseconds(20)) { fired.record("middle") }
            loop.cancelTimer(cancelled)
        }
        #expect(fired.wait(for: 3, timeout: 5) == ["early", "middle", "late"])
        // Give the cancelled one time to misfire.
        fired.wait(for: 4, timeout: 0.1)
        #expect(fired.current == ["early", "middle", "late"])
    }

    @Test("on its thread a loop's clock stands still for a pass; the precise clock and other threads see time go on")
    func passClock() throws {
        let group = EventLoopGroup(loopCount: 1)
        defer { group.shutdown() }
        let loop = group.loops[0]
        let (passStart, passLater, preciseStart, preciseLater) = try loop.runAndWait {
            let passStart = loop.now, preciseStart = loop.preciseNow
            usleep(20_000)
            return (passStart, loop.now, preciseStart, loop.preciseNow)
        }
        #expect(passLater == passStart)
        #expect(preciseLater - preciseStart >= 20_000_000)
        // Off the loop, and in a later pass, the time has moved on.
        #expect(loop.now >= preciseLater)
        let nextPass = try loop.runAndWait { loop.now }
        #expect(nextPass >= preciseLater)
        let wall = try loop.runAndWait { (loop.unixMilliseconds, loop.unixMilliseconds) }
        #expect(wall.0 == wall.1)
        #expect(abs(wall.0 - System.unixMilliseconds()) < 5_000)
    }

    @Test("a timer does not fire before its delay has passed")
    func timerRespectsDelay() throws {
        let group = EventLoopGroup(loopCount: 1)
        defer { group.shutdown() }
        let loop = group.loops[0]
        let elapsed = Waiter<UInt64>()
        try loop.runAndWait {
            let start = loop.now
            loop.scheduleTimer(after: .milliseconds(50)) { elapsed.record(loop.now - start) }
        }
        let values = elapsed.wait(timeout: 5)
        #expect(values.count == 1)
        #expect((values.first ?? 0) >= 50_000_000)
    }

    @Test("work posted from other threads runs on the loop thread, in order per poster")
    func executeFromOtherThreads() {
        let group = EventLoopGroup(loopCount: 2)
        defer { group.shutdown() }
        let loop = group.next()
        let seen = Waiter<(Int, Int, Bool)>()
        DispatchQueue.concurrentPerform(iterations: 4) { poster in
            for index in 0..<250 {
                loop.execute { seen.record((poster, index, loop.inEventLoop)) }
            }
        }
        let values = seen.wait(for: 1000, timeout: 10)
        #expect(values.count == 1000)
        #expect(values.allSatisfy { $0.2 })
        for poster in 0..<4 {
            let order = values.filter { $0.0 == poster }.map(\.1)
            #expect(order == Array(0..<250))
        }
        #expect(!loop.inEventLoop)
    }

    @Test("next() spreads work round robin over the loops")
    func roundRobin() {
        let group = EventLoopGroup(loopCount: 3)
        defer { group.shutdown() }
        let picked = (0..<6).map { _ in group.next().index }
        #expect(Set(picked) == [0, 1, 2])
        #expect(picked[0] != picked[1] && picked[1] != picked[2])
    }

    @Test("shutdown is idempotent and drops work posted afterwards")
    func shutdownIsIdempotent() {
        let group = EventLoopGroup(loopCount: 2)
        let ran = Waiter<Int>()
        group.loops[0].execute { ran.record(1) }
        group.shutdown()
        group.shutdown()
        group.loops[0].execute { ran.record(2) }
        #expect(ran.wait(for: 2, timeout: 0.2) == [1])
    }

    @Test("work for before the flush runs once, on the loop, after the pass's runSoon work")
    func beforeFlushWorkRunsAfterSoonWork() throws {
        let group = EventLoopGroup(loopCount: 1)
        defer { group.shutdown() }
        let loop = group.loops[0]
        let order = Waiter<String>()
        try loop.runAndWait {
            loop.runBeforeOutputFlush { order.record("before flush, on loop: \(loop.inEventLoop)") }
            loop.runSoon { order.record("soon") }
        }
        #expect(order.wait(for: 2, timeout: 5) == ["soon", "before flush, on loop: true"])
        // Nothing runs twice on later passes.
        loop.execute { order.record("later pass") }
        #expect(order.wait(for: 4, timeout: 0.2) == ["soon", "before flush, on loop: true", "later pass"])
    }

    @Test("work for before the flush, queued just as the loop is told to stop, still runs")
    func beforeFlushWorkRunsAtShutdown() throws {
        let group = EventLoopGroup(loopCount: 1)
        let loop = group.loops[0]
        let ran = Waiter<Bool>()
        loop.execute {
            loop.runBeforeOutputFlush { ran.record(true) }
        }
        group.shutdown()
        #expect(ran.wait(timeout: 5) == [true])
    }
}
