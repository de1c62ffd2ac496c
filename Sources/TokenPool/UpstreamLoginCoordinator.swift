import Synchronization

/// What the accounts of one upstream share: a cap on logins running at once, and the detector
/// that reads a burst of rejected tokens across accounts as an upstream restart.
final class UpstreamLoginCoordinator: Sendable {
    private struct Gate {
        var running = 0
        var queued: [@Sendable (_ done: @escaping @Sendable () -> Void) -> Void] = []
    }

    private struct RestartDetector {
        /// When each account last had a current token rejected.
        var rejections: [AccountKey: UInt64] = [:]
    }

    let name: String
    private let maxConcurrentLogins: Int
    private let burstAccounts: Int
    private let burstWindow: UInt64
    private let gate = Mutex(Gate())
    private let detector = Mutex(RestartDetector())

    init(name: String, policy: TokenPolicy) {
        self.name = name
        self.maxConcurrentLogins = max(1, policy.maxConcurrentLoginsPerUpstream)
        self.burstAccounts = max(2, policy.restartBurstAccounts)
        self.burstWindow = policy.restartBurstWindow.nanosecondsClamped
    }

    /// Runs `login` now if fewer than the cap are running, else when one finishes. `login` must
    /// call `done` exactly once when its exchange is over.
    func runLogin(_ login: @escaping @Sendable (_ done: @escaping @Sendable () -> Void) -> Void) {
        let runNow = gate.withLock { gate -> Bool in
            if gate.running < maxConcurrentLogins {
                gate.running += 1
                return true
            }
            gate.queued.append(login)
            return false
        }
        if runNow { login(loginDone) }
    }

    private func loginDone() {
        let next = gate.withLock { gate -> (@Sendable (_ done: @escaping @Sendable () -> Void) -> Void)? in
            if gate.queued.isEmpty {
                gate.running -= 1
                return nil
            }
            return gate.queued.removeFirst()
        }
        next?(loginDone)
    }

    /// Records that `account` had its current token rejected at `now`. When this completes a burst,
    /// returns the moment of the burst's first rejection: tokens whose login was sent at or before
    /// it come from before the restart and must go; later ones came from the restarted upstream.
    /// The detector then starts afresh, so one restart triggers one sweep.
    func recordRejection(of account: AccountKey, now: UInt64) -> UInt64? {
        detector.withLock { detector in
            detector.rejections = detector.rejections.filter { now &- $0.value <= burstWindow }
            detector.rejections[account] = now
            guard detector.rejections.count >= burstAccounts else { return nil }
            let firstRejection = detector.rejections.values.min() ?? now
            detector.rejections.removeAll()
            return firstRejection
        }
    }
}
