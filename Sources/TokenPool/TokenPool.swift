import Synchronization

/// One legacy account the pool should serve, with its resolved password.
public struct TokenAccountConfiguration: Sendable, CustomStringConvertible {
    public var key: AccountKey
    /// The account's password. Never printed: `description` leaves it out.
    public var password: String

    public init(key: AccountKey, password: String) {
        self.key = key
        self.password = password
    }

    public var description: String { "\(key)" }
}

/// What `TokenPool.invalidate(_:)` did with a rejected token.
public enum TokenInvalidation: Sendable, Equatable {
    /// The token was current and is gone; the next lease logs in again.
    case invalidated
    /// The token had already been replaced or removed (another request's 401 came first).
    case alreadyGone
    /// The token was issued after this account last lost one to a 401, moments ago
    /// (`TokenPolicy.freshTokenTrust`): the upstream more likely refuses the request than the token.
    /// The token stays and no login follows, until `checkRejectedToken` finds it dead.
    case keptFreshToken
    /// The token was current, and with it enough accounts of the upstream were rejected in a short
    /// window to mean a restart: `tokensDropped` tokens of that upstream were dropped at once.
    case upstreamRestartDetected(tokensDropped: Int)
}

/// A completion that is not `Sendable`, carried across threads and only ever run through its
/// executor (as `TokenWaiter` does for leases).
private struct ExecutorCallback<Value: Sendable>: @unchecked Sendable {
    let executor: any CallbackExecutor
    let completion: (Value) -> Void

    func resume(with value: Value) {
        executor.execute { self.completion(value) }
    }
}

/// Summary of the logouts made on shutdown.
public struct TokenPoolShutdownReport: Sendable, Equatable {
    public var loggedOut = 0
    public var failed = 0
    /// Logouts still unanswered when the deadline passed.
    public var unanswered = 0
}

/// Session tokens of the legacy login, per account: single-flight logins, rotation over up to
/// `poolSize` tokens, background renewal ahead of expiry, invalidation when a current token is
/// rejected (compare-and-swap on its generation; the account's other tokens go with it),
/// classified login failures with back-off, restart detection, logout on shutdown.
///
/// See `TokenPolicy` for every knob and `TokenAccountStateMachine` for the transitions.
public final class TokenPool: Sendable {
    private struct Registry {
        var accounts: [AccountKey: TokenAccount] = [:]
        var upstreams: [String: UpstreamLoginCoordinator] = [:]
        var isShutDown = false
    }

    public let policy: TokenPolicy
    private let client: any LegacyLoginClient
    private let clock: any TokenPoolClock
    private let jitter: any JitterSource
    private let registry = Mutex(Registry())

    public init(policy: TokenPolicy, accounts: [TokenAccountConfiguration], client: any LegacyLoginClient,
                clock: any TokenPoolClock = SystemTokenPoolClock(),
                jitter: any JitterSource = SystemJitterSource()) {
        self.policy = policy
        self.client = client
        self.clock = clock
        self.jitter = jitter
        reload(accounts: accounts)
    }

    /// The handle for `key`, or nil when no such account is configured. Look it up once and keep it.
    public func account(for key: AccountKey) -> TokenAccount? {
        registry.withLock { $0.accounts[key] }
    }

    /// Convenience for `account(for:)?.lease(on:completion:)`; fails with `.unknownAccount`.
    public func lease(_ key: AccountKey, on executor: any CallbackExecutor,
                      completion: @escaping (Result<LegacyToken, TokenLeaseError>) -> Void) {
        guard let account = account(for: key) else {
            completion(.failure(registry.withLock { $0.isShutDown } ? .shuttingDown : .unknownAccount(key)))
            return
        }
        account.lease(on: executor, completion: completion)
    }

    /// The upstream answered 401 to a request carrying `token`: removes exactly that token if it is
    /// still current (compare-and-swap on its generation), so a hundred concurrent 401s for one
    /// token cause one new login. Watches for a burst across accounts (an upstream restart) and
    /// then drops every token of that upstream once; the logins that follow run at most
    /// `maxConcurrentLoginsPerUpstream` at a time.
    ///
    /// A token issued after the account's last removal and refused within `freshTokenTrust` of it
    /// stays (`.keptFreshToken`): the refusal is likely about the request, and dropping the token
    /// would cost a login per such request. `checkRejectedToken` then settles it with the upstream.
    @discardableResult
    public func invalidate(_ token: LegacyToken) -> TokenInvalidation {
        guard let account = account(for: token.account) else { return .alreadyGone }
        let now = clock.now()
        switch account.invalidate(token, now: now) {
        case .stale: return .alreadyGone
        case .keptFresh: return .keptFreshToken
        case .removed: return afterRemoval(of: token, from: account, now: now)
        }
    }

    /// After `invalidate` kept a fresh token: asks the upstream whether it still accepts the token.
    /// A 401 removes it as `invalidate` would have (`.invalidated`, `.upstreamRestartDetected` or
    /// `.alreadyGone` when another request removed it meanwhile); any other answer, or none, keeps
    /// it (`.keptFreshToken`). `completion` runs once, through `executor`.
    public func checkRejectedToken(_ token: LegacyToken, on executor: any CallbackExecutor,
                                   completion: @escaping (TokenInvalidation) -> Void) {
        let callback = ExecutorCallback(executor: executor, completion: completion)
        client.checkToken(token) { [self] result in
            guard case .success(false) = result else {
                if case .success(true) = result { account(for: token.account)?.freshTokenConfirmed() }
                callback.resume(with: .keptFreshToken)
                return
            }
            guard let account = account(for: token.account) else {
                callback.resume(with: .alreadyGone)
                return
            }
            let now = clock.now()
            guard account.removeChecked(token, now: now) else {
                callback.resume(with: .alreadyGone)
                return
            }
            callback.resume(with: afterRemoval(of: token, from: account, now: now))
        }
    }

    /// A current token of `account` is gone: a burst of such removals across accounts means the
    /// upstream restarted, and then every token of that upstream goes at once.
    private func afterRemoval(of token: LegacyToken, from account: TokenAccount, now: UInt64) -> TokenInvalidation {
        guard let cutoff = account.upstream.recordRejection(of: token.account, now: now) else { return .invalidated }
        let siblings = registry.withLock { registry in
            registry.accounts.values.filter { $0.key.upstream == token.account.upstream }
        }
        let dropped = siblings.reduce(0) { $0 + $1.invalidateTokens(issuedAtOrBefore: cutoff) }
        return .upstreamRestartDetected(tokensDropped: dropped + 1)
    }

    /// Applies a reloaded configuration: adds new accounts, closes (and logs out) removed ones, and
    /// hands existing ones their possibly new password. A reload clears an unhealthy mark or a
    /// back-off: the operator acted, so one new attempt is owed.
    public func reload(accounts configurations: [TokenAccountConfiguration]) {
        let (toReload, removed) = registry.withLock { registry -> ([(TokenAccount, String)], [TokenAccount]) in
            guard !registry.isShutDown else { return ([], []) }
            var toReload: [(TokenAccount, String)] = []
            var wanted = Set<AccountKey>()
            for configuration in configurations {
                wanted.insert(configuration.key)
                if let existing = registry.accounts[configuration.key] {
                    toReload.append((existing, configuration.password))
                    continue
                }
                let upstreamName = configuration.key.upstream
                let upstream = registry.upstreams[upstreamName]
                    ?? UpstreamLoginCoordinator(name: upstreamName, policy: policy)
                registry.upstreams[upstreamName] = upstream
                registry.accounts[configuration.key] = TokenAccount(
                    key: configuration.key, password: configuration.password, policy: policy, client: client,
                    clock: clock, jitter: jitter, upstream: upstream)
            }
            let removedKeys = registry.accounts.keys.filter { !wanted.contains($0) }
            let removed = removedKeys.compactMap { registry.accounts.removeValue(forKey: $0) }
            return (toReload, removed)
        }
        for (account, password) in toReload { account.reload(password: password) }
        for account in removed {
            for token in account.close() { client.logout(token: token) { _ in } }
        }
    }

    /// For accounts whose upstream a reload replaced (same name, another address): drops the tokens
    /// they hold, which belong to the old upstream, and returns them for the caller to log out
    /// there (the login client already points at the new one). Back-offs and unhealthy marks are
    /// forgotten; leases waiting for a login get one from the new upstream.
    public func discardTokens(of keys: Set<AccountKey>) -> [LegacyToken] {
        let accounts = registry.withLock { registry in keys.compactMap { registry.accounts[$0] } }
        return accounts.flatMap { $0.discardTokens() }
    }

    /// A snapshot of every account, sorted by key.
    public func status() -> [TokenAccountStatus] {
        let accounts = registry.withLock { Array($0.accounts.values) }
        return accounts.map { $0.status() }.sorted { $0.account.description < $1.account.description }
    }

    /// Stops the pool: waiting leases fail with `.shuttingDown`, later leases too, and every held
    /// token is logged out. `completion` runs once, when every logout answered or `deadline`
    /// passed, whichever comes first.
    public func shutdown(deadline: Duration, completion: @escaping @Sendable (TokenPoolShutdownReport) -> Void) {
        let accounts = registry.withLock { registry -> [TokenAccount] in
            registry.isShutDown = true
            let accounts = Array(registry.accounts.values)
            registry.accounts.removeAll()
            return accounts
        }
        let tokens = accounts.flatMap { $0.close() }
        let tracker = ShutdownTracker(expected: tokens.count, completion: completion)
        if tokens.isEmpty {
            tracker.finishIfPending()
            return
        }
        clock.schedule(after: deadline) { tracker.finishIfPending() }
        for token in tokens {
            client.logout(token: token) { result in tracker.record(result) }
        }
    }
}

/// Counts logout answers and calls the shutdown completion exactly once.
private final class ShutdownTracker: Sendable {
    private struct Progress {
        var report = TokenPoolShutdownReport()
        var finished = false
    }

    private let expected: Int
    private let completion: @Sendable (TokenPoolShutdownReport) -> Void
    private let progress = Mutex(Progress())

    init(expected: Int, completion: @escaping @Sendable (TokenPoolShutdownReport) -> Void) {
        self.expected = expected
        self.completion = completion
    }

    func record(_ result: Result<Void, LoginFailure>) {
        let report = progress.withLock { progress -> TokenPoolShutdownReport? in
            guard !progress.finished else { return nil }
            switch result {
            case .success: progress.report.loggedOut += 1
            case .failure: progress.report.failed += 1
            }
            guard progress.report.loggedOut + progress.report.failed == expected else { return nil }
            progress.finished = true
            return progress.report
        }
        if let report { completion(report) }
    }

    func finishIfPending() {
        let report = progress.withLock { progress -> TokenPoolShutdownReport? in
            guard !progress.finished else { return nil }
            progress.finished = true
            var report = progress.report
            report.unanswered = expected - report.loggedOut - report.failed
            return report
        }
        if let report { completion(report) }
    }
}
