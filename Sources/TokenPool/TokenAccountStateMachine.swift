/// The token policy of one legacy account as a pure state machine: no locks, no clock, no I/O.
/// Every input carries the time; every output is an action for the caller to perform after it has
/// released the lock. Generic over the waiter so tests can use plain values.
struct TokenAccountStateMachine<Waiter> {
    /// A token together with the moments that govern it (monotonic nanoseconds).
    struct IssuedToken {
        var token: LegacyToken
        var issuedAt: UInt64
        var renewAt: UInt64
        var usableUntil: UInt64
        var expiresAt: UInt64
    }

    /// A login is on its way. `tokens` may still serve (a renewal or top-up) or be empty or spent
    /// (the first login, or one after expiry): then leases wait in `waiters`.
    struct LoginInFlight {
        var id: UInt64
        var tokens: [IssuedToken]
        var waiters: [Waiter]
    }

    /// The last login failed for a passing reason; none is attempted before `until`.
    struct BackingOff {
        var until: UInt64
        var failure: LoginFailure
        var tokens: [IssuedToken]
    }

    /// The last login failed for good; none is attempted before `probeAt` (never when nil) or a
    /// reload. Tokens obtained earlier keep serving until they expire.
    struct Unhealthy {
        var failure: LoginFailure
        var since: UInt64
        var probeAt: UInt64?
        var tokens: [IssuedToken]
    }

    enum State {
        /// No token, no login.
        case idle
        case loggingIn(LoginInFlight)
        /// At least one token, no login in flight.
        case ready([IssuedToken])
        case backingOff(BackingOff)
        case unhealthy(Unhealthy)
        /// Shut down: every lease fails.
        case closed
    }

    /// Instructs the caller to send a login for this account with this password.
    struct LoginStart: Equatable {
        var id: UInt64
        var password: String
    }

    /// What `invalidate(_:now:)` did.
    enum RejectionVerdict: Equatable {
        /// The token was held and is gone.
        case removed
        /// The token was no longer held (replaced, expired or already removed).
        case stale
        /// The token was issued after the last removal, which is recent: it stays until a check
        /// with the upstream says it is dead (`removeChecked`).
        case keptFresh
    }

    enum LeaseDecision {
        case token(LegacyToken, startLogin: LoginStart?)
        case wait(startLogin: LoginStart?)
        case fail(TokenLeaseError)
    }

    /// What to do once a login answered.
    struct LoginCompletion {
        var waiters: [Waiter] = []
        var result: Result<LegacyToken, TokenLeaseError> = .failure(.shuttingDown)
        /// Tokens nobody will use (a login that finished after the account moved on): log out now.
        var logoutNow: [LegacyToken] = []
        /// Valid tokens replaced by a renewal: log out after the retired-token delay.
        var logoutLater: [LegacyToken] = []
    }

    enum LastLogin: Equatable {
        case succeeded(at: UInt64)
        case failed(LoginFailure, at: UInt64)
    }

    let key: AccountKey
    let policy: TokenPolicy
    private(set) var password: String
    private(set) var state: State = .idle
    private(set) var consecutiveFailures = 0
    private(set) var loginAttempts = 0
    private(set) var lastLogin: LastLogin?
    /// Successful logins made while a usable token was held (renewals and pool top-ups).
    private(set) var renewals = 0
    /// Tokens removed because the upstream rejected them (one 401, or a restart sweep).
    private(set) var invalidatedTokens = 0
    /// When a 401 last removed a token of this account; see `TokenPolicy.freshTokenTrust`.
    private var lastRejectionAt: UInt64?
    /// Fresh tokens confirmed dead in a row without having served a single request, and when the
    /// last one was; see `TokenPolicy.freshTokenDeathsBeforeBackoff`.
    private var freshTokenDeaths = 0
    private var freshTokensRefused = 0
    private var lastFreshTokenDeathAt: UInt64 = 0
    private var nextGeneration: UInt64 = 1
    private var nextLoginID: UInt64 = 1
    private var rotation = 0

    init(key: AccountKey, password: String, policy: TokenPolicy) {
        self.key = key
        self.password = password
        self.policy = policy
    }

    // MARK: Leasing

    /// The fast path: a usable token, if there is one, rotating over the pool. May also start a
    /// background login (renewal due, pool not full, back-off or probe time reached). Never queues.
    mutating func takeUsableToken(now: UInt64) -> (LegacyToken, startLogin: LoginStart?)? {
        switch state {
        case .idle, .closed:
            return nil
        case .ready(let tokens):
            guard let token = pickUsable(tokens, now: now) else { return nil }
            guard needsLogin(tokens, now: now) else { return (token, nil) }
            let start = makeLoginStart()
            state = .loggingIn(LoginInFlight(id: start.id, tokens: tokens, waiters: []))
            return (token, start)
        case .loggingIn(let flight):
            guard let token = pickUsable(flight.tokens, now: now) else { return nil }
            return (token, nil)
        case .backingOff(let backingOff):
            guard let token = pickUsable(backingOff.tokens, now: now) else { return nil }
            guard now >= backingOff.until else { return (token, nil) }
            let start = makeLoginStart()
            state = .loggingIn(LoginInFlight(id: start.id, tokens: backingOff.tokens, waiters: []))
            return (token, start)
        case .unhealthy(let unhealthy):
            guard let token = pickUsable(unhealthy.tokens, now: now) else { return nil }
            guard let probeAt = unhealthy.probeAt, now >= probeAt else { return (token, nil) }
            let start = makeLoginStart()
            state = .loggingIn(LoginInFlight(id: start.id, tokens: unhealthy.tokens, waiters: []))
            return (token, start)
        }
    }

    /// The full lease: a usable token at once, or a place in the queue of the login in flight
    /// (starting one if needed), or an immediate failure when no login may be attempted now.
    mutating func lease(now: UInt64, waiter: Waiter) -> LeaseDecision {
        if let (token, start) = takeUsableToken(now: now) {
            return .token(token, startLogin: start)
        }
        switch state {
        case .idle, .ready:
            let start = makeLoginStart()
            state = .loggingIn(LoginInFlight(id: start.id, tokens: [], waiters: [waiter]))
            return .wait(startLogin: start)
        case .loggingIn(var flight):
            flight.waiters.append(waiter)
            state = .loggingIn(flight)
            return .wait(startLogin: nil)
        case .backingOff(let backingOff):
            guard now >= backingOff.until else {
                let retryAfter = Duration.nanosecondsClamped(backingOff.until - now)
                return .fail(.loginFailing(backingOff.failure, retryAfter: retryAfter))
            }
            let start = makeLoginStart()
            state = .loggingIn(LoginInFlight(id: start.id, tokens: [], waiters: [waiter]))
            return .wait(startLogin: start)
        case .unhealthy(let unhealthy):
            guard let probeAt = unhealthy.probeAt, now >= probeAt else {
                return .fail(.accountUnhealthy(unhealthy.failure))
            }
            let start = makeLoginStart()
            state = .loggingIn(LoginInFlight(id: start.id, tokens: [], waiters: [waiter]))
            return .wait(startLogin: start)
        case .closed:
            return .fail(.shuttingDown)
        }
    }

    // MARK: Login results

    /// Applies the answer to login `id`, sent at `startedAt`. A login the account no longer waits
    /// for (replaced after a reload, or the account closed) changes nothing; its token, if any, is
    /// logged out.
    mutating func loginFinished(
        id: UInt64, result: Result<String, LoginFailure>, startedAt: UInt64, now: UInt64,
        renewJitterFraction: Double, backoffJitterFraction: Double
    ) -> LoginCompletion {
        guard case .loggingIn(let flight) = state, flight.id == id else {
            var completion = LoginCompletion()
            if case .success(let value) = result {
                completion.logoutNow = [LegacyToken(value: value, generation: 0, account: key)]
            }
            return completion
        }
        let checked = result.flatMap { value -> Result<String, LoginFailure> in
            guard let problem = LegacyTokenFormat.problem(with: value) else { return .success(value) }
            return .failure(.implausibleToken(reason: problem))
        }
        let stillUsable = flight.tokens.filter { $0.usableUntil > now }
        var completion = LoginCompletion(waiters: flight.waiters)

        switch checked {
        case .success(let value):
            let issued = issue(value, startedAt: startedAt, renewJitterFraction: renewJitterFraction)
            var tokens = stillUsable + [issued]
            // Renewal replaces the token closest to expiry; it served until now and retires.
            while tokens.count > policy.poolSize {
                let oldest = tokens.indices.min { tokens[$0].expiresAt < tokens[$1].expiresAt }!
                completion.logoutLater.append(tokens.remove(at: oldest).token)
            }
            consecutiveFailures = 0
            lastLogin = .succeeded(at: now)
            if !stillUsable.isEmpty { renewals += 1 }
            state = .ready(tokens)
            completion.result = .success(issued.token)

        case .failure(let failure) where failure.isPermanent:
            consecutiveFailures += 1
            lastLogin = .failed(failure, at: now)
            let interval = failure == .badCredentials
                ? policy.badCredentialsProbeInterval : policy.missingPermissionProbeInterval
            let probeAt = interval.map { now &+ $0.nanosecondsClamped }
            state = .unhealthy(Unhealthy(failure: failure, since: now, probeAt: probeAt, tokens: stillUsable))
            completion.result = .failure(.accountUnhealthy(failure))

        case .failure(let failure):
            consecutiveFailures += 1
            lastLogin = .failed(failure, at: now)
            let delay = policy.backoff(afterFailures: consecutiveFailures, jitterFraction: backoffJitterFraction)
            let until = now &+ delay.nanosecondsClamped
            state = .backingOff(BackingOff(until: until, failure: failure, tokens: stillUsable))
            completion.result = .failure(.loginFailing(failure, retryAfter: delay))
        }
        return completion
    }

    // MARK: Invalidation

    /// Removes this token, and with it every other token the account holds, if the account still
    /// holds it (compare-and-swap on the generation: a late 401 for a token already replaced
    /// removes nothing), unless it was issued after the last removal and that removal is more
    /// recent than `freshTokenTrust`: then the upstream refuses the request, not the token, and
    /// dropping it would only cost one login per request.
    mutating func invalidate(_ token: LegacyToken, now: UInt64) -> RejectionVerdict {
        guard token.account == key, let held = heldToken(generation: token.generation) else { return .stale }
        if let last = lastRejectionAt, held.issuedAt >= last,
           now &- last < policy.freshTokenTrust.nanosecondsClamped {
            return .keptFresh
        }
        // The account's other tokens go with it: they all predate this refusal, and a restart that
        // killed one killed them all; a replay that picked up a dead sibling would fail. (Expiry is
        // renewed ahead of, so a refusal of a token that is not fresh is nearly always a restart;
        // the cost otherwise is a few logins.)
        let removed = removeTokens { _ in true }
        invalidatedTokens += removed
        lastRejectionAt = now
        return .removed
    }

    /// The upstream confirmed that this token is dead (a check answered 401): removes it, and the
    /// account's other tokens, whatever their age. False when it is no longer held. Fresh tokens
    /// dying again and again put the account into back-off
    /// (`TokenPolicy.freshTokenDeathsBeforeBackoff`).
    /// `hadServed`: the upstream answered at least one request made with the token.
    mutating func removeChecked(_ token: LegacyToken, now: UInt64, hadServed: Bool,
                                backoffJitterFraction: Double) -> Bool {
        guard token.account == key, let held = heldToken(generation: token.generation) else { return false }
        // As in `invalidate`: what killed this token most likely killed its siblings too.
        let removed = removeTokens { _ in true }
        invalidatedTokens += removed
        lastRejectionAt = now
        let age = now &- held.issuedAt
        // Refused at once: young, and never proven by serving for a while. A token that worked
        // for a while died of a restart or expiry, which a login fixes.
        let refusedAtOnce = age < policy.freshTokenTrust.nanosecondsClamped
            && !(hadServed && age >= policy.provenTokenLife.nanosecondsClamped)
        if refusedAtOnce {
            noteTokenRefusedAtOnce(now: now, backoffJitterFraction: backoffJitterFraction)
        } else {
            freshTokenDeaths = 0
        }
        return true
    }

    /// A check found a kept fresh token alive: the upstream accepts the account's tokens.
    mutating func freshTokenConfirmed() {
        freshTokenDeaths = 0
    }

    /// Counts a fresh token refused at once; enough of them in a row put the account into back-off.
    private mutating func noteTokenRefusedAtOnce(now: UInt64, backoffJitterFraction: Double) {
        freshTokensRefused += 1
        let window = policy.freshTokenTrust.nanosecondsClamped &* 2
        let inARow = freshTokenDeaths > 0 && now &- lastFreshTokenDeathAt < window
        freshTokenDeaths = inARow ? freshTokenDeaths + 1 : 1
        lastFreshTokenDeathAt = now
        let threshold = max(policy.freshTokenDeathsBeforeBackoff, 1)
        guard freshTokenDeaths >= threshold else { return }
        // Back off from a settled state only: a login in flight (a renewal) settles on its own.
        let tokens: [IssuedToken]
        switch state {
        case .idle: tokens = []
        case .ready(let held): tokens = held
        case .loggingIn, .backingOff, .unhealthy, .closed: return
        }
        let failure = LoginFailure.tokensRefusedAtOnce(count: freshTokenDeaths)
        let delay = policy.backoff(afterFailures: freshTokenDeaths - threshold + 1,
                                   jitterFraction: backoffJitterFraction)
        consecutiveFailures += 1
        lastLogin = .failed(failure, at: now)
        state = .backingOff(BackingOff(until: now &+ delay.nanosecondsClamped, failure: failure, tokens: tokens))
    }

    /// Removes every token issued at or before `moment` (an upstream restart kills them all).
    /// Returns how many were removed.
    mutating func invalidateTokens(issuedAtOrBefore moment: UInt64) -> Int {
        let removed = removeTokens { $0.issuedAt <= moment }
        invalidatedTokens += removed
        return removed
    }

    /// A reload pointed the account at a different upstream: the tokens held come from the old
    /// one, so they are dropped and returned (for the caller to log out there), a back-off or an
    /// unhealthy mark is forgotten, and a login in flight is superseded (its answer will be
    /// ignored). Leases waiting for that login get a new one, which the returned start asks for.
    mutating func discardTokens() -> (tokens: [LegacyToken], startLogin: LoginStart?) {
        switch state {
        case .idle, .closed:
            return ([], nil)
        case .ready(let tokens):
            state = .idle
            return (tokens.map(\.token), nil)
        case .loggingIn(let flight):
            let dropped = flight.tokens.map(\.token)
            guard !flight.waiters.isEmpty else {
                state = .idle
                return (dropped, nil)
            }
            let start = makeLoginStart()
            state = .loggingIn(LoginInFlight(id: start.id, tokens: [], waiters: flight.waiters))
            return (dropped, start)
        case .backingOff(let backingOff):
            consecutiveFailures = 0
            state = .idle
            return (backingOff.tokens.map(\.token), nil)
        case .unhealthy(let unhealthy):
            consecutiveFailures = 0
            state = .idle
            return (unhealthy.tokens.map(\.token), nil)
        }
    }

    private func heldToken(generation: UInt64) -> IssuedToken? {
        switch state {
        case .idle, .closed: return nil
        case .ready(let tokens): return tokens.first { $0.token.generation == generation }
        case .loggingIn(let flight): return flight.tokens.first { $0.token.generation == generation }
        case .backingOff(let backingOff): return backingOff.tokens.first { $0.token.generation == generation }
        case .unhealthy(let unhealthy): return unhealthy.tokens.first { $0.token.generation == generation }
        }
    }

    private mutating func removeTokens(where shouldRemove: (IssuedToken) -> Bool) -> Int {
        switch state {
        case .idle, .closed:
            return 0
        case .ready(var tokens):
            let before = tokens.count
            tokens.removeAll(where: shouldRemove)
            state = tokens.isEmpty ? .idle : .ready(tokens)
            return before - tokens.count
        case .loggingIn(var flight):
            let before = flight.tokens.count
            flight.tokens.removeAll(where: shouldRemove)
            state = .loggingIn(flight)
            return before - flight.tokens.count
        case .backingOff(var backingOff):
            let before = backingOff.tokens.count
            backingOff.tokens.removeAll(where: shouldRemove)
            state = .backingOff(backingOff)
            return before - backingOff.tokens.count
        case .unhealthy(var unhealthy):
            let before = unhealthy.tokens.count
            unhealthy.tokens.removeAll(where: shouldRemove)
            state = .unhealthy(unhealthy)
            return before - unhealthy.tokens.count
        }
    }

    // MARK: Reload and shutdown

    /// A configuration reload named this account again, maybe with a new password. Clears an
    /// unhealthy mark or a back-off (the operator acted: one new attempt is owed). A login in
    /// flight with a changed password is superseded: the returned login replaces it and the old
    /// one's answer will be ignored.
    mutating func reload(password newPassword: String) -> LoginStart? {
        let changed = newPassword != password
        password = newPassword
        switch state {
        case .idle, .ready, .closed:
            return nil
        case .loggingIn(var flight):
            guard changed else { return nil }
            let start = makeLoginStart()
            flight.id = start.id
            state = .loggingIn(flight)
            return start
        case .backingOff(let backingOff):
            consecutiveFailures = 0
            state = backingOff.tokens.isEmpty ? .idle : .ready(backingOff.tokens)
            return nil
        case .unhealthy(let unhealthy):
            consecutiveFailures = 0
            state = unhealthy.tokens.isEmpty ? .idle : .ready(unhealthy.tokens)
            return nil
        }
    }

    /// Closes the account: returns its tokens (to log out) and its waiters (to fail).
    mutating func close() -> (tokens: [LegacyToken], waiters: [Waiter]) {
        let result: (tokens: [LegacyToken], waiters: [Waiter])
        switch state {
        case .idle, .closed: result = ([], [])
        case .ready(let tokens): result = (tokens.map(\.token), [])
        case .loggingIn(let flight): result = (flight.tokens.map(\.token), flight.waiters)
        case .backingOff(let backingOff): result = (backingOff.tokens.map(\.token), [])
        case .unhealthy(let unhealthy): result = (unhealthy.tokens.map(\.token), [])
        }
        state = .closed
        return result
    }

    // MARK: Status

    func status(now: UInt64) -> TokenAccountStatus {
        var status = TokenAccountStatus(account: key)
        let tokens: [IssuedToken]
        switch state {
        case .idle:
            status.phase = .idle
            tokens = []
        case .ready(let held):
            status.phase = .ready
            tokens = held
        case .loggingIn(let flight):
            tokens = flight.tokens
            status.phase = tokens.contains { $0.usableUntil > now } ? .renewing : .loggingIn
            status.waiters = flight.waiters.count
        case .backingOff(let backingOff):
            status.phase = .backingOff
            status.retryIn = .nanosecondsClamped(backingOff.until &- min(backingOff.until, now))
            tokens = backingOff.tokens
        case .unhealthy(let unhealthy):
            status.phase = .unhealthy
            status.retryIn = unhealthy.probeAt.map { .nanosecondsClamped($0 &- min($0, now)) }
            tokens = unhealthy.tokens
        case .closed:
            status.phase = .closed
            tokens = []
        }
        let usable = tokens.filter { $0.usableUntil > now }
        status.tokenCount = usable.count
        status.tokenAges = usable.map { .nanosecondsClamped(now &- min(now, $0.issuedAt)) }
        status.nextRenewalIn = usable.map(\.renewAt).min().map { .nanosecondsClamped($0 &- min($0, now)) }
        status.consecutiveFailures = consecutiveFailures
        status.loginAttempts = loginAttempts
        status.renewals = renewals
        status.invalidations = invalidatedTokens
        status.freshTokensRefused = freshTokensRefused
        switch lastLogin {
        case nil:
            break
        case .succeeded(let at):
            status.lastLoginResult = .succeeded
            status.lastLoginAgo = .nanosecondsClamped(now &- min(now, at))
        case .failed(let failure, let at):
            status.lastLoginResult = .failed(failure)
            status.lastLoginAgo = .nanosecondsClamped(now &- min(now, at))
        }
        return status
    }

    // MARK: Helpers

    private mutating func pickUsable(_ tokens: [IssuedToken], now: UInt64) -> LegacyToken? {
        let count = tokens.count
        guard count > 0 else { return nil }
        if count == 1 { return tokens[0].usableUntil > now ? tokens[0].token : nil }
        rotation &+= 1
        for offset in 0..<count {
            let candidate = tokens[(rotation &+ offset) % count]
            if candidate.usableUntil > now { return candidate.token }
        }
        return nil
    }

    private func needsLogin(_ tokens: [IssuedToken], now: UInt64) -> Bool {
        var usable = 0
        for token in tokens where token.usableUntil > now {
            if token.renewAt <= now { return true }
            usable += 1
        }
        return usable < policy.poolSize
    }

    private mutating func makeLoginStart() -> LoginStart {
        let id = nextLoginID
        nextLoginID += 1
        loginAttempts += 1
        return LoginStart(id: id, password: password)
    }

    private mutating func issue(_ value: String, startedAt: UInt64, renewJitterFraction: Double) -> IssuedToken {
        let generation = nextGeneration
        nextGeneration += 1
        let lifetime = policy.lifetime.nanosecondsClamped
        let expiresAt = startedAt &+ lifetime
        let margin = min(policy.expirySafetyMargin.nanosecondsClamped, lifetime)
        let jitter = 1 + policy.renewJitter * min(max(renewJitterFraction, 0), 1)
        let renewAhead = min(UInt64(Double(policy.renewBefore.nanosecondsClamped) * jitter), lifetime)
        return IssuedToken(
            token: LegacyToken(value: value, generation: generation, account: key),
            issuedAt: startedAt,
            renewAt: expiresAt - renewAhead,
            usableUntil: expiresAt - margin,
            expiresAt: expiresAt)
    }
}
