import Network

/// One value per event loop, each read and written only by its own loop's thread, so the request
/// path reads its loop's copy without a lock or an atomic. `publish` hands every loop a new value
/// through `EventLoop.execute` and waits until each has taken it: a request that starts on a loop
/// after that loop took the value sees it; a request already running keeps what it read.
final class LoopLocal<Value: Sendable>: @unchecked Sendable {
    /// Touched only on the loop whose index it has (after `init`, which runs before any loop reads).
    private final class Slot: @unchecked Sendable {
        var value: Value

        init(_ value: Value) {
            self.value = value
        }
    }

    private let slots: [Slot]

    init(loopCount: Int, initial: Value) {
        slots = (0..<loopCount).map { _ in Slot(initial) }
    }

    /// The value of `loop`. Loop thread only.
    subscript(loop: EventLoop) -> Value {
        assert(loop.inEventLoop, "LoopLocal read off its loop")
        return slots[loop.index].value
    }

    /// Gives every loop of `group` the new value and returns once each has it. Must not be called
    /// from one of the group's loops (it waits for them).
    func publish(_ value: Value, to group: EventLoopGroup) {
        for loop in group.loops {
            let slot = slots[loop.index]
            // A loop already shut down serves nothing any more: nothing to hand over.
            try? loop.runAndWait { slot.value = value }
        }
    }
}
