import CSystem
import Synchronization

/// A fixed set of event loops, one thread each. Connections are spread over them round robin and
/// stay on the loop they started on.
public final class EventLoopGroup: @unchecked Sendable {
    public let loops: [EventLoop]
    private let cursor = Atomic<Int>(0)

    /// Starts `loopCount` loop threads (default: one per core). Also ignores SIGPIPE for the
    /// process: OpenSSL writes to sockets with write(2), which would otherwise kill the process
    /// when a peer resets (plain-socket writes use MSG_NOSIGNAL regardless).
    public init(loopCount: Int = System.coreCount) {
        precondition(loopCount > 0, "an event loop group needs at least one loop")
        tb_ignore_sigpipe()
        do {
            var loops: [EventLoop] = []
            for index in 0..<loopCount {
                let loop = try EventLoop(index: index)
                try loop.start()
                loops.append(loop)
            }
            self.loops = loops
        } catch {
            // Creating epoll/eventfd/threads only fails when the process is out of resources.
            fatalError("cannot start event loops: \(error)")
        }
    }

    /// The next loop, round robin.
    public func next() -> EventLoop {
        let value = cursor.wrappingAdd(1, ordering: .relaxed).oldValue
        return loops[value % loops.count]
    }

    /// Stops every loop (closing what is still registered on it) and joins the threads.
    /// Idempotent. From one of the group's own loops it joins the others and lets that one end
    /// after its current pass.
    public func shutdown() {
        for loop in loops { loop.stopAndJoin() }
    }

    deinit {
        shutdown()
    }
}
