/// Identifies a scheduled timer so it can be cancelled. Never reused within a loop.
public struct TimerID: Hashable, Sendable {
    let value: UInt64
}

/// A binary min-heap of timer deadlines, keyed by id. Cancelling only forgets the work; the heap
/// entry is dropped lazily when it reaches the top, which keeps cancel O(1) (timers are cancelled
/// far more often than they fire: every answered request cancels its header timeout).
struct TimerHeap {
    private struct Entry {
        var deadline: UInt64
        var id: UInt64
    }

    private var entries: [Entry] = []
    private var work: [UInt64: () -> Void] = [:]
    private var nextID: UInt64 = 1

    var isEmpty: Bool { work.isEmpty }
    var count: Int { work.count }

    mutating func schedule(at deadline: UInt64, _ action: @escaping () -> Void) -> TimerID {
        let id = nextID
        nextID &+= 1
        work[id] = action
        entries.append(Entry(deadline: deadline, id: id))
        siftUp(entries.count - 1)
        return TimerID(value: id)
    }

    mutating func cancel(_ id: TimerID) {
        work.removeValue(forKey: id.value)
        // Keep the heap from filling with cancelled entries when timers are re-armed often.
        if entries.count > 64 && entries.count > 4 * work.count { compact() }
    }

    /// The earliest deadline of a live timer, dropping cancelled entries on the way.
    mutating func nextDeadline() -> UInt64? {
        while let top = entries.first {
            if work[top.id] != nil { return top.deadline }
            popTop()
        }
        return nil
    }

    /// Removes and returns the work of the earliest timer due at or before `now`.
    mutating func popDue(now: UInt64) -> (() -> Void)? {
        while let top = entries.first, top.deadline <= now {
            popTop()
            if let action = work.removeValue(forKey: top.id) { return action }
        }
        return nil
    }

    mutating func removeAll() {
        entries.removeAll()
        work.removeAll()
    }

    private mutating func popTop() {
        let last = entries.removeLast()
        if !entries.isEmpty {
            entries[0] = last
            siftDown(0)
        }
    }

    private mutating func compact() {
        entries.removeAll { work[$0.id] == nil }
        var index = entries.count / 2
        while index > 0 {
            index -= 1
            siftDown(index)
        }
    }

    private func less(_ a: Int, _ b: Int) -> Bool {
        let x = entries[a], y = entries[b]
        return x.deadline < y.deadline || (x.deadline == y.deadline && x.id < y.id)
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(child, parent) else { return }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < entries.count else { return }
            var smallest = left
            if left + 1 < entries.count, less(left + 1, left) { smallest = left + 1 }
            guard less(smallest, parent) else { return }
            entries.swapAt(smallest, parent)
            parent = smallest
        }
    }
}
