import Dispatch
import Testing
@testable import TokenPool

@Suite("Leasing and renewal")
struct TokenPoolLeasingTests {
    @Test("Hundreds of concurrent leases from several threads cause exactly one login, and all get its token")
    func singleFlight() throws {
        let client = FakeLoginClient()
        let pool = makePool(client: client, clock: ManualClock())
        let account = try #require(pool.account(for: operatorKey))
        let results = LeaseResults()

        DispatchQueue.concurrentPerform(iterations: 400) { _ in account.leaseNow(into: results) }
        #expect(client.loginCount == 1)
        #expect(results.all.isEmpty)
        #expect(account.status().waiters == 400)

        client.completeNextLogin()
        #expect(results.tokens.count == 400)
        #expect(Set(results.tokens) == ["token-1"])
        #expect(client.loginCount == 1)
        #expect(account.immediateToken()?.value == "token-1")
    }

    @Test("Waiters are resumed through the executor they named")
    func waitersResumeOnTheirExecutor() throws {
        final class CountingExecutor: CallbackExecutor {
            let runs = LeaseResults()
            func execute(_ work: @escaping @Sendable () -> Void) {
                runs.record(.failure(.shuttingDown))
                work()
            }
        }
        let client = FakeLoginClient()
        let pool = makePool(client: client, clock: ManualClock())
        let account = try #require(pool.account(for: operatorKey))
        let executor = CountingExecutor()
        let results = LeaseResults()
        account.lease(on: executor) { results.record($0) }
        account.lease(on: executor) { results.record($0) }
        client.completeNextLogin()
        #expect(executor.runs.all.count == 2)
        #expect(results.tokens == ["token-1", "token-1"])
    }

    @Test("Renewal starts ahead of expiry in the background while the current token keeps serving")
    func renewsAhead() throws {
        var policy = TokenPolicy()
        policy.lifetime = .seconds(100)
        policy.renewBefore = .seconds(10)
        policy.expirySafetyMargin = .seconds(1)
        policy.retiredTokenLogoutDelay = .seconds(30)
        let client = FakeLoginClient()
        let clock = ManualClock()
        let pool = makePool(policy: policy, client: client, clock: clock)
        let account = try #require(pool.account(for: operatorKey))
        let results = LeaseResults()
        account.leaseNow(into: results)
        client.completeNextLogin()

        clock.advance(by: .seconds(89))
        #expect(account.immediateToken()?.value == "token-1")
        #expect(client.loginCount == 1)
        #expect(account.status().nextRenewalIn == .seconds(1))

        clock.advance(by: .seconds(1))
        #expect(account.immediateToken()?.value == "token-1")
        #expect(client.loginCount == 2)
        #expect(account.status().phase == .renewing)
        #expect(account.immediateToken()?.value == "token-1")
        #expect(client.loginCount == 2)

        client.completeNextLogin()
        #expect(account.immediateToken()?.value == "token-2")
        #expect(account.status().tokenCount == 1)
        #expect(client.logouts.isEmpty)
        clock.advance(by: .seconds(30))
        #expect(client.logouts == ["token-1"])
    }

    @Test("Renewal is jittered earlier by up to the configured fraction")
    func renewalJitter() throws {
        var policy = TokenPolicy()
        policy.lifetime = .seconds(1000)
        policy.renewBefore = .seconds(100)
        policy.renewJitter = 0.2
        let client = FakeLoginClient(respond: { _, _, n in .success("token-\(n)") })
        let clock = ManualClock()
        let pool = makePool(policy: policy, client: client, clock: clock, jitter: 0.5)
        let account = try #require(pool.account(for: operatorKey))
        account.leaseNow(into: LeaseResults())
        // 1000 s - 100 s * (1 + 0.2 * 0.5) = 890 s.
        clock.advance(by: .seconds(889))
        _ = account.immediateToken()
        #expect(client.loginCount == 1)
        clock.advance(by: .seconds(1))
        _ = account.immediateToken()
        #expect(client.loginCount == 2)
    }

    @Test("A token is never handed out past its expiry minus the safety margin")
    func neverPastExpiry() throws {
        var policy = TokenPolicy()
        policy.lifetime = .seconds(100)
        policy.renewBefore = .seconds(20)
        policy.expirySafetyMargin = .seconds(5)
        let client = FakeLoginClient()
        let clock = ManualClock()
        let pool = makePool(policy: policy, client: client, clock: clock)
        let account = try #require(pool.account(for: operatorKey))
        account.leaseNow(into: LeaseResults())
        client.completeNextLogin()

        clock.advance(by: .seconds(80))
        #expect(account.immediateToken()?.value == "token-1")   // renewal starts, stays pending
        clock.advance(by: .nanoseconds(14_999_999_999))
        #expect(account.immediateToken()?.value == "token-1")
        clock.advance(by: .nanoseconds(1))
        #expect(account.immediateToken() == nil)
        #expect(account.status().phase == .loggingIn)

        let results = LeaseResults()
        account.leaseNow(into: results)
        #expect(results.all.isEmpty)
        #expect(client.loginCount == 2)
        client.completeNextLogin()
        #expect(results.tokens == ["token-2"])
    }

    @Test("An expired token with no renewal in flight makes the next lease wait for a new login")
    func expiredTokenWithoutTraffic() throws {
        var policy = TokenPolicy()
        policy.lifetime = .seconds(100)
        let client = FakeLoginClient()
        let clock = ManualClock()
        let pool = makePool(policy: policy, client: client, clock: clock)
        let account = try #require(pool.account(for: operatorKey))
        account.leaseNow(into: LeaseResults())
        client.completeNextLogin()
        clock.advance(by: .seconds(200))
        #expect(account.immediateToken() == nil)
        let results = LeaseResults()
        account.leaseNow(into: results)
        #expect(results.all.isEmpty)
        client.completeNextLogin()
        #expect(results.tokens == ["token-2"])
    }

    @Test("A pool of several tokens is filled one login at a time and leases rotate over it")
    func rotatesOverPool() throws {
        var policy = TokenPolicy()
        policy.poolSize = 3
        let client = FakeLoginClient(respond: { _, _, n in .success("token-\(n)") })
        let pool = makePool(policy: policy, client: client, clock: ManualClock())
        let account = try #require(pool.account(for: operatorKey))
        var seen: [String] = []
        for _ in 0..<9 {
            if let token = account.immediateToken() {
                seen.append(token.value)
            } else {
                let results = LeaseResults()
                account.leaseNow(into: results)
                seen.append(contentsOf: results.tokens)
            }
        }
        #expect(client.loginCount == 3)
        #expect(account.status().tokenCount == 3)
        #expect(Set(seen.suffix(3)) == ["token-1", "token-2", "token-3"])
    }

    @Test("Token descriptions and mirrors show a fingerprint, never the value")
    func tokenNeverPrinted() {
        let token = LegacyToken(value: "0f83ee44-5ff7-462f-9cf5-855c455a4bca", generation: 7, account: operatorKey)
        #expect(!token.description.contains(token.value))
        #expect(!String(reflecting: token).contains(token.value))
        var dumped = ""
        dump(token, to: &dumped)
        #expect(!dumped.contains(token.value))
        #expect(token.description.contains(token.fingerprint))
        #expect(token.authorizationHeaderValue == "TOKEN id=\"0f83ee44-5ff7-462f-9cf5-855c455a4bca\"")
        let configuration = TokenAccountConfiguration(key: operatorKey, password: "hunter2")
        #expect(!String(describing: configuration).contains("hunter2"))
    }
}
