import Testing

@testable import LegacyTopdesk

@Suite("Token registry")
struct TokenRegistryTests {
    let principal = Principal(login: "api.operator", kind: .operator, subjectId: "x")

    func registry(idle: Duration? = nil) -> TokenRegistry {
        let ids = CountingIDs()
        return TokenRegistry(lifetime: .seconds(10), idleTimeout: idle, makeToken: { ids.next() })
    }

    @Test("a token is valid until its lifetime from login has passed")
    func lifetime() {
        var tokens = registry()
        let token = tokens.issue(for: principal, now: 0)
        #expect(tokens.use(token, now: 9_999) == .valid(principal))
        #expect(tokens.use(token, now: 10_000) == .invalid)
        #expect(tokens.activeCount(now: 10_000) == 0)
    }

    @Test("an idle timeout kills a token that was not used, and use keeps it alive")
    func idle() {
        var tokens = registry(idle: .seconds(3))
        let used = tokens.issue(for: principal, now: 0)
        let unused = tokens.issue(for: principal, now: 0)
        #expect(tokens.use(used, now: 2_000) == .valid(principal))
        #expect(tokens.use(used, now: 4_500) == .valid(principal))
        #expect(tokens.use(unused, now: 4_500) == .invalid)
    }

    @Test("revoking one token leaves the others; revoking all leaves none")
    func revoke() {
        var tokens = registry()
        let first = tokens.issue(for: principal, now: 0)
        let second = tokens.issue(for: principal, now: 0)
        #expect(first != second)
        let revoked = tokens.revoke(first, now: 1)
        let revokedAgain = tokens.revoke(first, now: 1)
        #expect(revoked)
        #expect(!revokedAgain)
        #expect(tokens.use(first, now: 1) == .invalid)
        #expect(tokens.use(second, now: 1) == .valid(principal))
        tokens.revokeAll()
        #expect(tokens.use(second, now: 1) == .invalid)
    }
}
