import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Time as the pool sees it: a monotonic nanosecond count and a way to run work later. Injected so
/// that tests drive renewal, expiry and back-off without sleeping.
public protocol TokenPoolClock: Sendable {
    /// Monotonic nanoseconds; only differences matter.
    func now() -> UInt64
    /// Runs `work` once, on some thread, after `delay`. Used only for the shutdown deadline and for
    /// logging out retired tokens; never on a request's path.
    func schedule(after delay: Duration, _ work: @escaping @Sendable () -> Void)
}

/// `CLOCK_MONOTONIC` and a Dispatch timer.
public struct SystemTokenPoolClock: TokenPoolClock {
    public init() {}

    public func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
    }

    public func schedule(after delay: Duration, _ work: @escaping @Sendable () -> Void) {
        let nanoseconds = Int(clamping: delay.nanosecondsClamped)
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(nanoseconds), execute: work)
    }
}

/// A source of jitter: fractions in 0..<1. Injected so tests can fix it.
public protocol JitterSource: Sendable {
    func nextFraction() -> Double
}

/// The system random number generator.
public struct SystemJitterSource: JitterSource {
    public init() {}

    public func nextFraction() -> Double {
        Double.random(in: 0..<1)
    }
}

extension Duration {
    /// Whole nanoseconds, negative durations as zero, huge ones clamped to `UInt64.max`.
    var nanosecondsClamped: UInt64 {
        let (seconds, attoseconds) = components
        if seconds < 0 { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return .max }
        let fraction = UInt64(max(attoseconds, 0) / 1_000_000_000)
        let (sum, overflowSum) = whole.addingReportingOverflow(fraction)
        return overflowSum ? .max : sum
    }

    static func nanosecondsClamped(_ value: UInt64) -> Duration {
        .nanoseconds(Int64(clamping: value))
    }
}
