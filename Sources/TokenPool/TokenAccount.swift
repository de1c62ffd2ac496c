import Synchronization

/// The pool's handle on one legacy account. Obtain it once from `TokenPool.account(for:)` and keep
/// it: leasing through the handle skips the pool's lookup.
///
/// Thread-safe. The state lives in a `Mutex` held only while the state machine decides; logins,
/// logouts and waiter callbacks run after it is released.
public final class TokenAccount: Sendable {
    public let key: AccountKey
    private let machine: Mutex<TokenAccountStateMachine<TokenWaiter>>
    private let client: any LegacyLoginClient
    private let clock: any TokenPoolClock
    private let jitter: any JitterSource
    private let policy: TokenPolicy
    let upstream: UpstreamLoginCoordinator
    /// The newest token generation the upstream answered a request for with something other than
    /// 401: a token up to it has served, so its death later is no sign of tokens refused at once.
    private let servedGeneration = Atomic<UInt64>(0)

    init(key: AccountKey, password: String, policy: TokenPolicy, client: any LegacyLoginClient,
         clock: any TokenPoolClock, jitter: any JitterSource, upstream: UpstreamLoginCoordinator) {
        self.key = key
        self.machine = Mutex(TokenAccountStateMachine(key: key, password: password, policy: policy))
        self.client = client
        self.clock = clock
        self.jitter = jitter
        self.policy = policy
        self.upstream = upstream
    }

    /// A usable token if one is held, else nil (then call `lease`). Allocates nothing and holds the
    /// lock for a few instructions; may start a background renewal.
    public func immediateToken() -> LegacyToken? {
        let now = clock.now()
        guard let (token, start) = machine.withLock({ $0.takeUsableToken(now: now) }) else { return nil }
        if let start { startLogin(start) }
        return token
    }

    /// Hands a token to `completion`: at once on the calling thread when one is held or the account
    /// cannot log in now (unhealthy, backing off, closed), else through `executor` once the login
    /// in flight answers. Every waiter of one login gets that login's result.
    public func lease(on executor: any CallbackExecutor,
                      completion: @escaping (Result<LegacyToken, TokenLeaseError>) -> Void) {
        let now = clock.now()
        let waiter = TokenWaiter(executor: executor, completion: completion)
        let decision = machine.withLock { $0.lease(now: now, waiter: waiter) }
        switch decision {
        case .token(let token, let start):
            if let start { startLogin(start) }
            completion(.success(token))
        case .wait(let start):
            if let start { startLogin(start) }
        case .fail(let error):
            completion(.failure(error))
        }
    }

    /// Removes this token (and the account's others) if it is still current and not trusted as fresh.
    func invalidate(_ token: LegacyToken, now: UInt64) -> TokenAccountStateMachine<TokenWaiter>.RejectionVerdict {
        machine.withLock { $0.invalidate(token, now: now) }
    }

    func removeChecked(_ token: LegacyToken, now: UInt64) -> Bool {
        let backoffJitter = jitter.nextFraction()
        let served = token.generation <= servedGeneration.load(ordering: .relaxed)
        return machine.withLock {
            $0.removeChecked(token, now: now, hadServed: served, backoffJitterFraction: backoffJitter)
        }
    }

    /// The upstream answered a request made with `token` (anything but 401). One relaxed atomic
    /// load per request; a store only the first time a newer token serves.
    public func noteServed(_ token: LegacyToken) {
        guard token.account == key, token.generation > servedGeneration.load(ordering: .relaxed) else { return }
        servedGeneration.store(token.generation, ordering: .relaxed)
    }

    func freshTokenConfirmed() {
        machine.withLock { $0.freshTokenConfirmed() }
    }

    func invalidateTokens(issuedAtOrBefore moment: UInt64) -> Int {
        machine.withLock { $0.invalidateTokens(issuedAtOrBefore: moment) }
    }

    /// See `TokenPool.reload(accounts:)`.
    func reload(password: String) {
        if let start = machine.withLock({ $0.reload(password: password) }) { startLogin(start) }
    }

    /// See `TokenPool.discardTokens(of:)`.
    func discardTokens() -> [LegacyToken] {
        let (tokens, start) = machine.withLock { $0.discardTokens() }
        if let start { startLogin(start) }
        return tokens
    }

    func close() -> [LegacyToken] {
        let (tokens, waiters) = machine.withLock { $0.close() }
        for waiter in waiters { waiter.resume(with: .failure(.shuttingDown)) }
        return tokens
    }

    public func status() -> TokenAccountStatus {
        let now = clock.now()
        return machine.withLock { $0.status(now: now) }
    }

    // MARK: Acting on decisions

    private func startLogin(_ start: TokenAccountStateMachine<TokenWaiter>.LoginStart) {
        let key = self.key
        let client = self.client
        upstream.runLogin { [self] done in
            let startedAt = clock.now()
            client.login(account: key, password: start.password) { result in
                done()
                self.loginFinished(id: start.id, result: result, startedAt: startedAt)
            }
        }
    }

    private func loginFinished(id: UInt64, result: Result<String, LoginFailure>, startedAt: UInt64) {
        let now = clock.now()
        let renewJitter = jitter.nextFraction()
        let backoffJitter = jitter.nextFraction()
        let completion = machine.withLock {
            $0.loginFinished(id: id, result: result, startedAt: startedAt, now: now,
                             renewJitterFraction: renewJitter, backoffJitterFraction: backoffJitter)
        }
        for waiter in completion.waiters { waiter.resume(with: completion.result) }
        for token in completion.logoutNow { client.logout(token: token) { _ in } }
        if let delay = policy.retiredTokenLogoutDelay, !completion.logoutLater.isEmpty {
            let client = self.client
            let retired = completion.logoutLater
            clock.schedule(after: delay) {
                for token in retired { client.logout(token: token) { _ in } }
            }
        }
    }
}
