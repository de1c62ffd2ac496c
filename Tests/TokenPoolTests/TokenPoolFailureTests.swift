import Synchronization
import Dispatch
import Testing
@testable import TokenPool

@Suite("Invalidation, failures and back-off")
struct TokenPoolFailureTests {
    @Test("Invalidating removes exactly the rejected token; a stale invalidation is ignored")
    func invalidatesOnlyTheRejectedToken() throws {
        let client = FakeLoginClient(respond: { _, _, n in .success("token-\(n)") })
        let pool = makePool(client: client, clock: ManualClock())
        let account = try #require(pool.account(for: operatorKey))
        let first = LeaseResults()
        account.leaseNow(into: first)
        let token1 = try first.all[0].get()

        #expect(pool.invalidate(token1) == .invalidated)
        let second = LeaseResults()
        account.leaseNow(into: second)
        let token2 = try second.all[0].get()
        #expect(token2.value == "token-2")
        #expect(token2.generation > token1.generation)

        #expect(pool.invalidate(token1) == .alreadyGone)
        #expect(account.immediateToken() == token2)
        #expect(client.loginCount == 2)
    }

    @Test("A fresh token refused right after a removal stays until the upstream says it is dead")
    func freshTokenIsCheckedNotDropped() throws {
        let client = FakeLoginClient(respond: { _, _, n in .success("token-\(n)") })
        let clock = ManualClock()
        let pool = makePool(client: client, clock: clock)
        let account = try #require(pool.account(for: operatorKey))
        account.leaseNow(into: LeaseResults())
        let token1 = try #require(account.immediateToken())
        clock.advance(by: .seconds(60))
        #expect(pool.invalidate(token1) == .invalidated)
        account.leaseNow(into: LeaseResults())
        let token2 = try #require(account.immediateToken())
        #expect(token2.value == "token-2")

        // Refused again within freshTokenTrust: more likely the request than the token.
        clock.advance(by: .seconds(1))
        #expect(pool.invalidate(token2) == .keptFreshToken)
        #expect(account.immediateToken() == token2)
        let verdicts = Verdicts()
        pool.checkRejectedToken(token2, on: InlineCallbackExecutor()) { verdicts.record($0) }
        client.setCheckAnswer(.failure(.network(detail: "connection refused")))
        pool.checkRejectedToken(token2, on: InlineCallbackExecutor()) { verdicts.record($0) }
        #expect(verdicts.all == [.keptFreshToken, .keptFreshToken])
        #expect(account.immediateToken() == token2)
        #expect(client.loginCount == 2)

        // The upstream answers 401 to the token itself: it goes, and only then a login follows.
        client.setCheckAnswer(.success(false))
        pool.checkRejectedToken(token2, on: InlineCallbackExecutor()) { verdicts.record($0) }
        pool.checkRejectedToken(token2, on: InlineCallbackExecutor()) { verdicts.record($0) }
        #expect(verdicts.all.suffix(2) == [.invalidated, .alreadyGone])
        #expect(account.immediateToken() == nil)
        account.leaseNow(into: LeaseResults())
        let token3 = try #require(account.immediateToken())
        #expect(client.checks == ["token-2", "token-2", "token-2", "token-2"])

        // Once freshTokenTrust has passed since the last removal, a 401 drops the token at once.
        clock.advance(by: pool.policy.freshTokenTrust + .seconds(1))
        #expect(pool.invalidate(token3) == .invalidated)
        #expect(client.loginCount == 3)
    }

    /// One client request as the gateway makes it against an install that refuses every token:
    /// lease, get a 401, invalidate, and check a kept fresh token. Returns the lease error, if any.
    /// With `servingFor`, the token first serves requests for that long on `clock`.
    private func refusedRequest(_ pool: TokenPool, _ account: TokenAccount,
                                servingFor life: Duration? = nil, clock: ManualClock? = nil) -> TokenLeaseError? {
        let results = LeaseResults()
        account.leaseNow(into: results)
        guard case .success(let token)? = results.all.first else { return results.errors.first }
        if let life, let clock {
            account.noteServed(token)
            clock.advance(by: life)
        }
        if pool.invalidate(token) == .keptFreshToken {
            pool.checkRejectedToken(token, on: InlineCallbackExecutor()) { _ in }
        }
        return nil
    }

    @Test("An install that refuses every fresh token gets back-off, not a login per request")
    func freshTokensRefusedAtOnceBackOff() throws {
        let client = FakeLoginClient(respond: { _, _, n in .success("token-\(n)") })
        client.setCheckAnswer(.success(false))
        let clock = ManualClock()
        let pool = makePool(client: client, clock: clock)
        let account = try #require(pool.account(for: operatorKey))
        var errors: [TokenLeaseError] = []
        for _ in 0..<20 {
            if let error = refusedRequest(pool, account) { errors.append(error) }
            clock.advance(by: .milliseconds(10))
        }
        // One token dropped outright, then three fresh ones confirmed dead: back-off begins.
        #expect(client.loginCount == 4)
        #expect(errors.count == 16)
        guard case .loginFailing(.tokensRefusedAtOnce(count: 3), let retryAfter)? = errors.first else {
            Issue.record("expected the tokens-refused back-off, got \(String(describing: errors.first))")
            return
        }
        #expect(retryAfter > .milliseconds(900) && retryAfter <= .seconds(1))
        #expect(account.status().freshTokensRefused == 3)
        #expect(account.status().phase == .backingOff)

        // After the back-off one more login, one more death, and a back-off twice as long.
        clock.advance(by: .seconds(1))
        #expect(refusedRequest(pool, account) == nil)
        #expect(client.loginCount == 5)
        #expect(refusedRequest(pool, account) == .loginFailing(.tokensRefusedAtOnce(count: 4),
                                                                 retryAfter: .seconds(2)))
    }

    @Test("Fresh tokens dying now and then, or found alive by a check in between, never cause back-off")
    func occasionalFreshDeathsDoNotBackOff() throws {
        let client = FakeLoginClient(respond: { _, _, n in .success("token-\(n)") })
        let clock = ManualClock()
        let pool = makePool(client: client, clock: clock)
        let account = try #require(pool.account(for: operatorKey))
        client.setCheckAnswer(.success(false))
        for _ in 0..<3 {
            #expect(refusedRequest(pool, account) == nil)
            clock.advance(by: .milliseconds(10))
        }
        // Two fresh deaths so far; a check that finds a token alive resets the count.
        client.setCheckAnswer(.success(true))
        #expect(refusedRequest(pool, account) == nil)
        client.setCheckAnswer(.success(false))
        for _ in 0..<2 {
            #expect(refusedRequest(pool, account) == nil)
            clock.advance(by: .milliseconds(10))
        }
        // Deaths far apart (restarts minutes apart) are not in a row either.
        for _ in 0..<4 {
            clock.advance(by: pool.policy.freshTokenTrust * 2 + .seconds(1))
            #expect(refusedRequest(pool, account) == nil)
        }
    }

    @Test("Tokens that served before they died (restarts in quick succession) never cause back-off")
    func servedTokensDyingDoNotBackOff() throws {
        let client = FakeLoginClient(respond: { _, _, n in .success("token-\(n)") })
        client.setCheckAnswer(.success(false))
        let clock = ManualClock()
        let pool = makePool(client: client, clock: clock)
        let account = try #require(pool.account(for: operatorKey))
        for _ in 0..<10 {
            #expect(refusedRequest(pool, account, servingFor: .milliseconds(300), clock: clock) == nil)
        }
        #expect(client.loginCount == 10)

        // Serving a request or two within milliseconds of the login proves nothing.
        var errors: [TokenLeaseError] = []
        for _ in 0..<10 {
            if let error = refusedRequest(pool, account, servingFor: .milliseconds(1), clock: clock) {
                errors.append(error)
            }
        }
        #expect(client.loginCount == 13)
        #expect(errors.count == 7)
    }

    @Test("A refused token takes the account's other tokens along: a replay gets a new one")
    func olderTokensGoAtOnce() throws {
        var policy = TokenPolicy()
        policy.poolSize = 2
        let client = FakeLoginClient(respond: { _, _, n in .success("token-\(n)") })
        let clock = ManualClock()
        let pool = makePool(policy: policy, client: client, clock: clock)
        let account = try #require(pool.account(for: operatorKey))
        account.leaseNow(into: LeaseResults())
        account.leaseNow(into: LeaseResults())
        let held = Set([account.immediateToken(), account.immediateToken()].compactMap { $0?.value })
        #expect(held == ["token-1", "token-2"])
        clock.advance(by: .seconds(5))
        let tokens = (0..<4).compactMap { _ in account.immediateToken() }
        let first = try #require(tokens.first { $0.value == "token-1" })
        let second = try #require(tokens.first { $0.value == "token-2" })
        #expect(pool.invalidate(first) == .invalidated)
        // Whatever killed token-1 (a restart) killed token-2 too.
        #expect(account.immediateToken() == nil)
        #expect(pool.invalidate(second) == .alreadyGone)
        let replay = LeaseResults()
        account.leaseNow(into: replay)
        #expect(replay.tokens == ["token-3"])
        #expect(client.checks.isEmpty)
    }

    @Test("Many concurrent 401s for one token cause one invalidation and one new login")
    func concurrentInvalidations() throws {
        let client = FakeLoginClient()
        let pool = makePool(client: client, clock: ManualClock())
        let account = try #require(pool.account(for: operatorKey))
        account.leaseNow(into: LeaseResults())
        client.completeNextLogin()
        let token = try #require(account.immediateToken())

        let outcomes = LeaseResults()
        let invalidated = LeaseResults()
        DispatchQueue.concurrentPerform(iterations: 200) { _ in
            if pool.invalidate(token) == .invalidated { invalidated.record(.failure(.shuttingDown)) }
            account.leaseNow(into: outcomes)
        }
        #expect(invalidated.all.count == 1)
        #expect(client.loginCount == 2)
        client.completeNextLogin()
        #expect(Set(outcomes.tokens) == ["token-2"])
        #expect(outcomes.all.count == 200)
    }

    static let classified: [(String, LoginFailure?, TokenAccountStatus.Phase, Bool)] = [
        ("401", .badCredentials, .unhealthy, true),
        ("403 REST realm", .missingAPIPermission, .unhealthy, true),
        ("500", .upstreamStatus(500), .backingOff, false),
        ("network", .network(detail: "connection refused"), .backingOff, false),
        ("HTML 200", nil, .backingOff, false),
    ]

    @Test("Login failures are classified: permanent ones mark the account unhealthy, others back off",
          arguments: classified)
    func classifiesFailures(_ name: String, _ failure: LoginFailure?, _ phase: TokenAccountStatus.Phase,
                            _ permanent: Bool) throws {
        let client = FakeLoginClient()
        let clock = ManualClock()
        let pool = makePool(client: client, clock: clock)
        let account = try #require(pool.account(for: operatorKey))
        let results = LeaseResults()
        account.leaseNow(into: results)
        account.leaseNow(into: results)
        let answer: Result<String, LoginFailure> = failure.map { .failure($0) }
            ?? .success("<!DOCTYPE html><html><body>Login</body></html>")
        client.completeNextLogin(with: answer)

        let expected = failure ?? .implausibleToken(reason: "the body looks like an HTML or XML page")
        let expectedError: TokenLeaseError = permanent
            ? .accountUnhealthy(expected) : .loginFailing(expected, retryAfter: .seconds(1))
        #expect(results.errors == [expectedError, expectedError], "\(name)")
        let status = account.status()
        #expect(status.phase == phase)
        #expect(status.isHealthy == !permanent)
        #expect(status.consecutiveFailures == 1)
        #expect(status.lastLoginResult == .failed(expected))

        // A lease right after fails at once, without another attempt.
        let later = LeaseResults()
        account.leaseNow(into: later)
        #expect(later.errors.count == 1)
        #expect(client.loginCount == 1)
    }

    @Test("A wrong password causes one login attempt however many requests come, until a reload")
    func wrongPasswordIsTriedOnce() throws {
        let client = FakeLoginClient(respond: { _, password, _ in
            password == "right" ? .success("token-ok") : .failure(.badCredentials)
        })
        let clock = ManualClock()
        let pool = makePool(client: client, clock: clock)
        let account = try #require(pool.account(for: operatorKey))
        let results = LeaseResults()
        for _ in 0..<600 {
            account.leaseNow(into: results)
            clock.advance(by: .milliseconds(100))
        }
        clock.advance(by: .seconds(3600))
        account.leaseNow(into: results)
        #expect(client.loginCount == 1)
        #expect(results.errors.count == 601)
        #expect(results.errors.allSatisfy { $0 == .accountUnhealthy(.badCredentials) })

        pool.reload(accounts: [TokenAccountConfiguration(key: operatorKey, password: "right")])
        #expect(account.status().phase == .idle)
        #expect(account.status().isHealthy)
        let afterReload = LeaseResults()
        account.leaseNow(into: afterReload)
        #expect(afterReload.tokens == ["token-ok"])
        #expect(client.logins.map(\.password) == ["secret", "right"])
        #expect(account.status().consecutiveFailures == 0)
    }

    @Test("Missing API permission is probed again only after the probe interval")
    func permissionProbe() throws {
        var policy = TokenPolicy()
        policy.missingPermissionProbeInterval = .seconds(300)
        let client = FakeLoginClient(respond: { _, _, _ in .failure(.missingAPIPermission) })
        let clock = ManualClock()
        let pool = makePool(policy: policy, client: client, clock: clock)
        let account = try #require(pool.account(for: operatorKey))
        account.leaseNow(into: LeaseResults())
        clock.advance(by: .seconds(299))
        account.leaseNow(into: LeaseResults())
        #expect(client.loginCount == 1)
        #expect(account.status().retryIn == .seconds(1))
        clock.advance(by: .seconds(1))
        let probe = LeaseResults()
        account.leaseNow(into: probe)
        #expect(client.loginCount == 2)
        #expect(probe.errors == [.accountUnhealthy(.missingAPIPermission)])
        #expect(account.status().consecutiveFailures == 2)
    }

    @Test("Passing failures back off exponentially up to the cap, attempts happen only when a back-off ends")
    func backoffTiming() throws {
        let client = FakeLoginClient(respond: { _, _, _ in .failure(.upstreamStatus(503)) })
        let clock = ManualClock()
        let pool = makePool(client: client, clock: clock)
        let account = try #require(pool.account(for: operatorKey))
        account.leaseNow(into: LeaseResults())
        #expect(client.loginCount == 1)

        let expectedSeconds: [Int64] = [1, 2, 4, 8, 16, 32, 60, 60]
        for (index, seconds) in expectedSeconds.enumerated() {
            #expect(account.status().retryIn == .seconds(seconds))
            clock.advance(by: .seconds(seconds) - .milliseconds(1))
            let early = LeaseResults()
            account.leaseNow(into: early)
            #expect(early.errors == [.loginFailing(.upstreamStatus(503), retryAfter: .milliseconds(1))])
            #expect(client.loginCount == index + 1)
            clock.advance(by: .milliseconds(1))
            account.leaseNow(into: LeaseResults())
            #expect(client.loginCount == index + 2)
        }

        client.setRespond { _, _, _ in .success("token-back") }
        clock.advance(by: .seconds(60))
        let recovered = LeaseResults()
        account.leaseNow(into: recovered)
        #expect(recovered.tokens == ["token-back"])
        #expect(account.status().consecutiveFailures == 0)
        #expect(account.status().phase == .ready)
    }

    @Test("Back-off jitter shortens each delay by up to the configured fraction")
    func backoffJitter() {
        var policy = TokenPolicy()
        policy.backoffJitter = 0.2
        #expect(policy.backoff(afterFailures: 1, jitterFraction: 0) == .seconds(1))
        #expect(policy.backoff(afterFailures: 1, jitterFraction: 0.5) == .milliseconds(900))
        #expect(policy.backoff(afterFailures: 3, jitterFraction: 1) == .milliseconds(3200))
        #expect(policy.backoff(afterFailures: 200, jitterFraction: 0) == .seconds(60))
    }

    @Test("A failed renewal backs off while the current token keeps serving")
    func failedRenewalKeepsServing() throws {
        var policy = TokenPolicy()
        policy.lifetime = .seconds(100)
        policy.renewBefore = .seconds(20)
        let client = FakeLoginClient()
        let clock = ManualClock()
        let pool = makePool(policy: policy, client: client, clock: clock)
        let account = try #require(pool.account(for: operatorKey))
        account.leaseNow(into: LeaseResults())
        client.completeNextLogin()
        clock.advance(by: .seconds(80))
        #expect(account.immediateToken()?.value == "token-1")
        client.completeNextLogin(with: .failure(.network(detail: "timeout")))
        #expect(account.status().phase == .backingOff)
        #expect(account.immediateToken()?.value == "token-1")
        #expect(client.loginCount == 2)
        clock.advance(by: .seconds(1))
        #expect(account.immediateToken()?.value == "token-1")
        #expect(client.loginCount == 3)
    }
}

/// Collects `TokenInvalidation` verdicts from any thread.
final class Verdicts: Sendable {
    private let verdicts = Mutex<[TokenInvalidation]>([])

    func record(_ verdict: TokenInvalidation) {
        verdicts.withLock { $0.append(verdict) }
    }

    var all: [TokenInvalidation] { verdicts.withLock { $0 } }
}
