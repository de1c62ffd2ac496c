import Synchronization
import Testing
@testable import TokenPool

@Suite("Restart bursts, reload and shutdown")
struct TokenPoolLifecycleTests {
    static let upstreamAccounts = (1...5).map { AccountKey(upstream: "main", kind: .person, login: "user\($0)") }
    static let otherAccount = AccountKey(upstream: "other", kind: .operator, login: "api")

    @Test("A burst of 401s across accounts drops every token of that upstream once and re-logins are capped")
    func restartBurst() throws {
        var policy = TokenPolicy()
        policy.restartBurstAccounts = 3
        policy.maxConcurrentLoginsPerUpstream = 2
        let client = FakeLoginClient(respond: { account, _, n in .success("\(account.login)-\(n)") })
        let clock = ManualClock()
        let pool = makePool(policy: policy, accounts: Self.upstreamAccounts + [Self.otherAccount],
                            client: client, clock: clock)
        let accounts = try (Self.upstreamAccounts + [Self.otherAccount]).map { try #require(pool.account(for: $0)) }
        for account in accounts { account.leaseNow(into: LeaseResults()) }
        let tokens = accounts.map { $0.immediateToken()! }
        #expect(client.loginCount == 6)

        clock.advance(by: .seconds(1))
        #expect(pool.invalidate(tokens[0]) == .invalidated)
        #expect(pool.invalidate(tokens[1]) == .invalidated)
        #expect(pool.invalidate(tokens[2]) == .upstreamRestartDetected(tokensDropped: 3))
        for account in accounts.prefix(5) { #expect(account.immediateToken() == nil) }
        #expect(accounts[5].immediateToken() == tokens[5])
        // Stale 401s of the dropped tokens start no second sweep.
        #expect(pool.invalidate(tokens[3]) == .alreadyGone)
        #expect(pool.invalidate(tokens[4]) == .alreadyGone)

        client.setRespond(nil)
        let results = LeaseResults()
        for account in accounts.prefix(5) { account.leaseNow(into: results) }
        #expect(client.pendingCount == 2)
        client.completeNextLogin()
        #expect(client.pendingCount == 2)
        client.completeNextLogin()
        client.completeNextLogin()
        client.completeNextLogin()
        #expect(client.pendingCount == 1)
        client.completeNextLogin()
        #expect(results.tokens.count == 5)
        #expect(client.loginCount == 11)
    }

    @Test("Rejections spread wider than the burst window are handled one by one")
    func noBurstWhenSpread() throws {
        let client = FakeLoginClient(respond: { account, _, n in .success("\(account.login)-\(n)") })
        let clock = ManualClock()
        let pool = makePool(accounts: Self.upstreamAccounts, client: client, clock: clock)
        let accounts = try Self.upstreamAccounts.map { try #require(pool.account(for: $0)) }
        for account in accounts { account.leaseNow(into: LeaseResults()) }
        for index in 0..<3 {
            #expect(pool.invalidate(accounts[index].immediateToken()!) == .invalidated)
            clock.advance(by: .seconds(11))
        }
        #expect(accounts[3].immediateToken() != nil)
        #expect(accounts[4].immediateToken() != nil)
    }

    @Test("Shutdown logs every held token out and fails waiting leases")
    func logoutOnShutdown() throws {
        let client = FakeLoginClient(respond: { account, _, _ in .success("tok-\(account.login)") })
        let clock = ManualClock()
        let keys = Array(Self.upstreamAccounts.prefix(3))
        let pool = makePool(accounts: keys + [Self.otherAccount], client: client, clock: clock)
        for key in keys { pool.lease(key, on: InlineCallbackExecutor()) { _ in } }
        client.setRespond(nil)
        let waiting = LeaseResults()
        pool.lease(Self.otherAccount, on: InlineCallbackExecutor()) { waiting.record($0) }

        let report = Mutex<TokenPoolShutdownReport?>(nil)
        pool.shutdown(deadline: .seconds(5)) { finished in report.withLock { $0 = finished } }
        #expect(Set(client.logouts) == ["tok-user1", "tok-user2", "tok-user3"])
        #expect(report.withLock { $0 } == TokenPoolShutdownReport(loggedOut: 3, failed: 0, unanswered: 0))
        #expect(waiting.errors == [.shuttingDown])

        let after = LeaseResults()
        pool.lease(keys[0], on: InlineCallbackExecutor()) { after.record($0) }
        #expect(after.errors == [.shuttingDown])
    }

    @Test("Shutdown gives up on unanswered logouts at the deadline")
    func shutdownDeadline() throws {
        let client = FakeLoginClient(respond: { _, _, _ in .success("tok") })
        client.holdLogouts()
        let clock = ManualClock()
        let pool = makePool(client: client, clock: clock)
        pool.lease(operatorKey, on: InlineCallbackExecutor()) { _ in }
        let report = Mutex<TokenPoolShutdownReport?>(nil)
        pool.shutdown(deadline: .seconds(5)) { finished in report.withLock { $0 = finished } }
        #expect(client.logouts == ["tok"])
        clock.advance(by: .seconds(4))
        #expect(report.withLock { $0 } == nil)
        clock.advance(by: .seconds(1))
        #expect(report.withLock { $0 } == TokenPoolShutdownReport(loggedOut: 0, failed: 0, unanswered: 1))
    }

    @Test("A reload adds and removes accounts and logs the removed ones out")
    func reloadChangesAccounts() throws {
        let client = FakeLoginClient(respond: { account, _, _ in .success("tok-\(account.login)") })
        let pool = makePool(accounts: [operatorKey], client: client, clock: ManualClock())
        pool.lease(operatorKey, on: InlineCallbackExecutor()) { _ in }
        let newKey = Self.otherAccount
        pool.reload(accounts: [TokenAccountConfiguration(key: newKey, password: "x")])
        #expect(pool.account(for: operatorKey) == nil)
        #expect(pool.account(for: newKey) != nil)
        #expect(client.logouts == ["tok-api"])
        let results = LeaseResults()
        pool.lease(operatorKey, on: InlineCallbackExecutor()) { results.record($0) }
        #expect(results.errors == [.unknownAccount(operatorKey)])
    }

    @Test("A reload with a new password supersedes a login in flight with the old one")
    func reloadSupersedesLoginInFlight() throws {
        let client = FakeLoginClient()
        let pool = makePool(client: client, clock: ManualClock())
        let account = try #require(pool.account(for: operatorKey))
        let results = LeaseResults()
        account.leaseNow(into: results)
        pool.reload(accounts: [TokenAccountConfiguration(key: operatorKey, password: "new")])
        #expect(client.logins.map(\.password) == ["secret", "new"])
        client.completeNextLogin(with: .failure(.badCredentials))
        #expect(results.all.isEmpty)
        #expect(account.status().isHealthy)
        client.completeNextLogin(with: .success("fresh"))
        #expect(results.tokens == ["fresh"])
    }

    @Test("Status reports phase, counts and ages without secrets")
    func statusSnapshot() throws {
        let client = FakeLoginClient(respond: { _, _, _ in .success("tok-secret-value") })
        let clock = ManualClock()
        let pool = makePool(client: client, clock: clock)
        pool.lease(operatorKey, on: InlineCallbackExecutor()) { _ in }
        clock.advance(by: .seconds(60))
        let status = try #require(pool.status().first)
        #expect(status.phase == .ready)
        #expect(status.tokenCount == 1)
        #expect(status.tokenAges == [.seconds(60)])
        #expect(status.nextRenewalIn == .seconds(8 * 3600 - 300 - 60))
        #expect(status.lastLoginResult == .succeeded)
        #expect(status.loginAttempts == 1)
        #expect(!String(describing: status).contains("tok-secret-value"))
        #expect(!String(describing: status).contains("secret"))
    }
}
