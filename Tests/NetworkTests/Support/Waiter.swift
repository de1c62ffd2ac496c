import Dispatch
import Synchronization

/// Collects values from loop threads and lets a test wait for them with a deadline.
final class Waiter<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])
    private let arrived = DispatchSemaphore(value: 0)

    func record(_ value: Value) {
        values.withLock { $0.append(value) }
        arrived.signal()
    }

    /// Waits until `count` values arrived in total or `timeout` passed; returns what arrived.
    @discardableResult
    func wait(for count: Int = 1, timeout: Double = 10) -> [Value] {
        let deadline = DispatchTime.now() + timeout
        while values.withLock({ $0.count }) < count {
            if arrived.wait(timeout: deadline) == .timedOut { break }
        }
        return values.withLock { $0 }
    }

    var current: [Value] { values.withLock { $0 } }
}

/// Lets non-Sendable loop-confined objects cross into a loop closure. The test guarantees the
/// object is touched from one thread at a time.
struct Unchecked<Wrapped>: @unchecked Sendable {
    let value: Wrapped
    init(_ value: Wrapped) { self.value = value }
}
