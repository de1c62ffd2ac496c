import Dispatch
import Glibc

extension EventLoop {
    /// Runs `work` on the loop and blocks the calling thread until it returns. For setup paths
    /// (binding listeners, tests); never call it from another loop's hot path. Runs inline when
    /// already on this loop; throws `IOError` (ESHUTDOWN) once the loop was shut down.
    public func runAndWait<Value>(_ work: @escaping () throws -> Value) throws -> Value {
        if inEventLoop { return try work() }
        guard !isShutDown else { throw IOError(call: "EventLoop.runAndWait", errno: ESHUTDOWN) }
        let box = ResultBox(work: work)
        let done = DispatchSemaphore(value: 0)
        execute {
            box.result = Result { try box.work() }
            done.signal()
        }
        done.wait()
        return try box.result!.get()
    }
}

/// Carries a closure and its result across the hop to the loop and back. The semaphore orders
/// the accesses, which the compiler cannot see.
private final class ResultBox<Value>: @unchecked Sendable {
    let work: () throws -> Value
    var result: Result<Value, any Error>?

    init(work: @escaping () throws -> Value) {
        self.work = work
    }
}
