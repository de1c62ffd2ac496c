import CSystem
import Dispatch
import Glibc
import Synchronization

/// Something registered with a loop's epoll instance. Called on the loop thread only.
protocol LoopSelectable: AnyObject {
    /// `flags` are the epoll event bits that fired (EPOLLIN, EPOLLOUT, EPOLLRDHUP, ...).
    func handleEvents(_ flags: UInt32)
    /// The loop is shutting down: release the descriptor now. Called once, on the loop thread.
    func loopIsStopping()
}

/// One thread with its own epoll instance, a timer heap and a queue of work posted from other
/// threads (woken through an eventfd). Everything registered on a loop is touched only by its
/// thread, so connection state needs no locks; the only lock guards the cross-thread queue.
///
/// Loop-thread-only members say so; calling them elsewhere is a programming error (checked by
/// assertions in debug builds).
public final class EventLoop: @unchecked Sendable, CustomStringConvertible {
    /// Bytes read per `read(2)` into the loop's shared buffer: one buffer per loop, reused by every
    /// connection, so reading never allocates.
    static let readBufferSize = 64 * 1024
    /// Most buffers handed to one `sendmsg` (well below IOV_MAX).
    static let maxIOVecs = 64
    /// A TLS record's worth of plaintext: small writes are gathered into one record.
    static let tlsRecordSize = 16 * 1024
    private static let maxEvents: Int32 = 256
    private static let wakeToken: UInt64 = .max

    public let index: Int
    private let epollFD: Int32
    private let wakeFD: Int32
    private var thread: pthread_t?
    private var loopThread: pthread_t?

    private let incoming = Mutex<[@Sendable () -> Void]>([])
    private var stopRequested = false
    private let stoppedFlag = Atomic<Bool>(false)

    // Loop-thread-only state.
    private struct Registration {
        var handler: (any LoopSelectable)?
        var generation: UInt32 = 0
    }
    private var registrations: [Registration] = []
    private var registeredCount = 0
    private var timers = TimerHeap()
    private var soon: [() -> Void] = []
    /// Connections with output queued during this pass, flushed once before the loop waits again.
    private var pendingFlushes: [Connection] = []
    private var flushesInProgress: [Connection] = []
    /// Work to run once, after this pass's events and timers and before its output is flushed.
    private var beforeFlush: [() -> Void] = []
    private var beforeFlushRunning: [() -> Void] = []
    private let events: UnsafeMutablePointer<epoll_event>

    /// Shared read buffer, valid to use only synchronously on the loop thread.
    let readBuffer: UnsafeMutableRawBufferPointer
    /// Scratch iovec array for gathered writes.
    let ioVectors: UnsafeMutablePointer<iovec>
    /// Scratch space for gathering small writes into one TLS record.
    let tlsGatherBuffer: UnsafeMutableRawBufferPointer

    init(index: Int) throws(IOError) {
        self.index = index
        let epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else { throw IOError.last("epoll_create1") }
        let wakeFD = tb_eventfd_nonblocking()
        guard wakeFD >= 0 else {
            let error = IOError.last("eventfd")
            close(epollFD)
            throw error
        }
        guard tb_epoll_ctl(epollFD, EPOLL_CTL_ADD, wakeFD, tb_EPOLLIN, Self.wakeToken) == 0 else {
            let error = IOError.last("epoll_ctl")
            close(epollFD)
            close(wakeFD)
            throw error
        }
        self.epollFD = epollFD
        self.wakeFD = wakeFD
        events = tb_epoll_events_allocate(Self.maxEvents)
        readBuffer = .allocate(byteCount: Self.readBufferSize, alignment: 16)
        ioVectors = .allocate(capacity: Self.maxIOVecs)
        tlsGatherBuffer = .allocate(byteCount: Self.tlsRecordSize, alignment: 16)
    }

    deinit {
        close(epollFD)
        close(wakeFD)
        free(events)
        readBuffer.deallocate()
        ioVectors.deallocate()
        tlsGatherBuffer.deallocate()
    }

    public var description: String { "EventLoop(\(index))" }

    // MARK: - Any thread

    /// Runs `work` on the loop thread, after whatever it is doing now. Safe from any thread; work
    /// posted from the loop itself also runs later, never inline. Work posted after shutdown is
    /// dropped.
    public func execute(_ work: @escaping @Sendable () -> Void) {
        let shouldWake = incoming.withLock { queue in
            queue.append(work)
            return queue.count == 1
        }
        if shouldWake {
            var one: UInt64 = 1
            _ = write(wakeFD, &one, 8)
        }
    }

    /// Whether the calling thread is this loop's thread.
    public var inEventLoop: Bool {
        guard let loopThread else { return false }
        return pthread_equal(loopThread, pthread_self()) != 0
    }

    /// Monotonic nanoseconds (CLOCK_MONOTONIC). On the loop thread, the time the loop last woke
    /// (read once per pass, and again before timers run): a request asks for the time a dozen
    /// times and the clock read is among its larger costs, while nothing on a loop needs more
    /// precision than one pass. From any other thread, the clock itself.
    public var now: UInt64 {
        inEventLoop ? passStartedAt : System.monotonicNanoseconds()
    }

    /// The clock itself, on any thread: for the few measurements that must include the time spent
    /// in the current pass (the total time of a request answered in the pass it arrived in).
    public var preciseNow: UInt64 { System.monotonicNanoseconds() }

    /// When this pass of the loop began; loop thread only.
    private var passStartedAt = System.monotonicNanoseconds()

    /// Wall-clock milliseconds since 1970, for timestamps in logs. On the loop thread, read at
    /// most once per pass, when first asked for; from any other thread, the clock itself.
    public var unixMilliseconds: Int64 {
        guard inEventLoop else { return System.unixMilliseconds() }
        if wallClockPass != passStartedAt {
            wallClockPass = passStartedAt
            wallClock = System.unixMilliseconds()
        }
        return wallClock
    }

    /// The pass `wallClock` was read in, named by its start; loop thread only.
    private var wallClockPass: UInt64 = 0
    private var wallClock: Int64 = 0

    // MARK: - Loop thread only

    /// Runs `work` once `after` has passed. Loop thread only.
    @discardableResult
    public func scheduleTimer(after delay: Duration, _ work: @escaping () -> Void) -> TimerID {
        assert(inEventLoop, "scheduleTimer called off the loop thread")
        return timers.schedule(at: now &+ delay.nanoseconds, work)
    }

    /// Runs `work` at the monotonic instant `deadline` (nanoseconds). Loop thread only.
    @discardableResult
    func scheduleTimer(at deadline: UInt64, _ work: @escaping () -> Void) -> TimerID {
        assert(inEventLoop, "scheduleTimer called off the loop thread")
        return timers.schedule(at: deadline, work)
    }

    /// Forgets a timer; harmless if it already fired or was cancelled. Loop thread only.
    public func cancelTimer(_ id: TimerID) {
        assert(inEventLoop, "cancelTimer called off the loop thread")
        timers.cancel(id)
    }

    /// Runs `work` on this loop right after the current batch of events, before waiting again.
    /// Used to avoid re-entrance (e.g. resuming reads from inside a callback). Loop thread only.
    func runSoon(_ work: @escaping () -> Void) {
        assert(inEventLoop, "runSoon called off the loop thread")
        soon.append(work)
    }

    /// Runs `work` once later in this loop pass: after the events, timers and `runSoon` work of
    /// the pass, and before the connections written to are flushed. For batching work per pass
    /// (the gateway writes a pass's access-log lines with one system call). Loop thread only.
    public func runBeforeOutputFlush(_ work: @escaping () -> Void) {
        assert(inEventLoop, "runBeforeOutputFlush called off the loop thread")
        beforeFlush.append(work)
    }

    /// Flushes `connection` after the current batch of events, timers and `runSoon` work, before
    /// the loop waits again. Every write of a pass to one connection thus leaves in one gathered
    /// `sendmsg` (TLS: one record where it fits) instead of one call per `write`, and no later
    /// than the end of the pass that made it. Loop thread only; the caller keeps a flag so a
    /// connection is listed once.
    func scheduleFlush(_ connection: Connection) {
        assert(inEventLoop, "scheduleFlush called off the loop thread")
        pendingFlushes.append(connection)
    }

    /// Number of descriptors registered (for tests and metrics). Loop thread only.
    var registeredDescriptorCount: Int { registeredCount }

    func register(_ fd: Int32, flags: UInt32, handler: any LoopSelectable) throws(IOError) {
        assert(inEventLoop, "register called off the loop thread")
        let index = Int(fd)
        if index >= registrations.count {
            registrations.append(contentsOf: repeatElement(Registration(), count: index + 1 - registrations.count))
        }
        registrations[index].generation &+= 1
        let token = UInt64(UInt32(bitPattern: fd)) | UInt64(registrations[index].generation) << 32
        guard tb_epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, flags, token) == 0 else {
            throw IOError.last("epoll_ctl(ADD)")
        }
        registrations[index].handler = handler
        registeredCount += 1
    }

    func modify(_ fd: Int32, flags: UInt32) throws(IOError) {
        let index = Int(fd)
        let token = UInt64(UInt32(bitPattern: fd)) | UInt64(registrations[index].generation) << 32
        guard tb_epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, flags, token) == 0 else {
            throw IOError.last("epoll_ctl(MOD)")
        }
    }

    /// Removes `fd` from epoll and forgets its handler. Call before closing the descriptor.
    func deregister(_ fd: Int32) {
        let index = Int(fd)
        guard index < registrations.count, registrations[index].handler != nil else { return }
        _ = tb_epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, 0, 0)
        registrations[index].handler = nil
        registrations[index].generation &+= 1
        registeredCount -= 1
    }

    // MARK: - The loop

    func start() throws(IOError) {
        let started = DispatchSemaphore(value: 0)
        let box = Unmanaged.passRetained(StartBox(loop: self, started: started))
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { argument in
            let box = Unmanaged<StartBox>.fromOpaque(argument!).takeRetainedValue()
            box.loop.run(signalling: box.started)
            return nil
        }, box.toOpaque())
        guard result == 0 else {
            box.release()
            throw IOError(call: "pthread_create", errno: result)
        }
        self.thread = thread
        started.wait()
    }

    private final class StartBox {
        let loop: EventLoop
        let started: DispatchSemaphore
        init(loop: EventLoop, started: DispatchSemaphore) {
            self.loop = loop
            self.started = started
        }
    }

    /// Asks the loop to stop and waits for its thread to end; registered descriptors are closed.
    /// Called on the loop itself, it stops after the current pass without waiting.
    func stopAndJoin() {
        guard !stoppedFlag.exchange(true, ordering: .acquiringAndReleasing) else { return }
        if inEventLoop {
            stopRequested = true
            if let thread { pthread_detach(thread) }
            return
        }
        // The thread keeps the loop alive until `run` returns, so `unowned` is safe.
        execute { [unowned self] in self.stopRequested = true }
        if let thread { pthread_join(thread, nil) }
    }

    /// Whether `shutdown` was requested.
    var isShutDown: Bool { stoppedFlag.load(ordering: .acquiring) }

    private func run(signalling started: DispatchSemaphore) {
        loopThread = pthread_self()
        let name = "tb-loop-\(index)"
        tb_name_current_thread(String(name.prefix(15)))
        started.signal()

        while !stopRequested {
            let timeout = waitTimeoutMilliseconds()
            let count = epoll_wait(epollFD, events, Self.maxEvents, timeout)
            passStartedAt = System.monotonicNanoseconds()
            if count < 0 {
                // EINTR: a signal arrived; anything else would be a programming error on our fd.
                continue
            }
            for slot in 0..<Int(count) {
                let slot = Int32(slot)
                dispatch(flags: tb_epoll_event_flags(events, slot), token: tb_epoll_event_data(events, slot))
            }
            runDueTimers()
            runSoonWork()
            runBeforeFlushWork()
            flushPendingOutput()
        }
        shutDownRegistrations()
    }

    private func waitTimeoutMilliseconds() -> Int32 {
        if !soon.isEmpty || !pendingFlushes.isEmpty || !beforeFlush.isEmpty { return 0 }
        guard let deadline = timers.nextDeadline() else { return -1 }
        let current = System.monotonicNanoseconds()
        if deadline <= current { return 0 }
        // Round up so a timer never fires early; cap to keep the value in range.
        let milliseconds = (deadline - current + 999_999) / 1_000_000
        return Int32(min(milliseconds, 3_600_000))
    }

    @inline(__always)
    private func dispatch(flags: UInt32, token: UInt64) {
        if token == Self.wakeToken {
            drainIncoming()
            return
        }
        let index = Int(UInt32(truncatingIfNeeded: token))
        let generation = UInt32(truncatingIfNeeded: token >> 32)
        guard index < registrations.count else { return }
        let registration = registrations[index]
        // A stale event for a descriptor closed earlier in this batch (and maybe reused) is dropped.
        guard registration.generation == generation, let handler = registration.handler else { return }
        handler.handleEvents(flags)
    }

    private func drainIncoming() {
        var counter: UInt64 = 0
        _ = read(wakeFD, &counter, 8)
        let work = incoming.withLock { queue in
            let taken = queue
            queue.removeAll(keepingCapacity: true)
            return taken
        }
        for item in work { item() }
    }

    private func runDueTimers() {
        // The events of this pass may have taken a while: timers see the clock as it is now.
        passStartedAt = System.monotonicNanoseconds()
        let current = passStartedAt
        while let action = timers.popDue(now: current) { action() }
    }

    private func runSoonWork() {
        // Work added while running is taken on the next pass (after one non-blocking epoll_wait).
        guard !soon.isEmpty else { return }
        let work = soon
        soon.removeAll(keepingCapacity: true)
        for item in work { item() }
    }

    private func runBeforeFlushWork() {
        // Work added while running (by a flush that failed, say) runs on the next pass.
        guard !beforeFlush.isEmpty else { return }
        swap(&beforeFlush, &beforeFlushRunning)
        for item in beforeFlushRunning { item() }
        beforeFlushRunning.removeAll(keepingCapacity: true)
    }

    /// Flushes the connections written to during this pass. A flush may call a delegate that
    /// writes again (to this or another connection): those are flushed by the next round here,
    /// up to a few rounds; anything left waits for the next pass (which then does not sleep).
    private func flushPendingOutput() {
        var rounds = 0
        while !pendingFlushes.isEmpty && rounds < 4 {
            rounds += 1
            swap(&pendingFlushes, &flushesInProgress)
            for connection in flushesInProgress { connection.runScheduledFlush() }
            flushesInProgress.removeAll(keepingCapacity: true)
        }
    }

    private func shutDownRegistrations() {
        // Work posted before the stop request still runs; later work is dropped.
        drainIncoming()
        runSoonWork()
        runBeforeFlushWork()
        for registration in registrations {
            registration.handler?.loopIsStopping()
        }
        registrations.removeAll()
        registeredCount = 0
        timers.removeAll()
        soon.removeAll()
        pendingFlushes.removeAll()
    }
}
