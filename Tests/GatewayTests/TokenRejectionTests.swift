import Testing
@testable import Gateway

/// 401s from the upstream: a dead token is replaced and the request replayed; a path the upstream
/// refuses whatever the token costs no login per request.
@Suite("Rejected tokens", .serialized)
struct TokenRejectionTests {
    @Test("a path the upstream always answers 401 costs one new login, not one per request")
    func refusedPathCausesNoLoginStorm() async throws {
        let upstream = try RecordingUpstream()
        let harness = try GatewayHarness(upstreamPort: upstream.port)
        let key = try harness.issueAPIKey()
        let before = await harness.send("GET", "/tas/api/incidents", key: key)
        var refused: [TestResponse] = []
        for _ in 0..<20 {
            refused.append(await harness.send("GET", "/tas/api/refused/42", key: key))
        }
        let after = await harness.send("GET", "/tas/api/incidents", key: key)
        let logins = upstream.logins
        let checks = upstream.tokenChecks
        _ = await harness.stop()
        upstream.stop()

        #expect(before.status == 201)
        #expect(refused.map(\.status) == Array(repeating: 502, count: 20))
        #expect(refused.last?.json?["error"] as? String == "upstream rejected token")
        #expect((refused.last?.json?["detail"] as? String)?.contains("not the token") == true)
        // The first refusal drops the token and logs in once; every later one asks the upstream
        // whether the fresh token works (it does) instead of logging in again.
        #expect(logins == 2)
        #expect(checks == 20)
        #expect(after.status == 201)
    }

    @Test("two restarts in quick succession: each dead token is replaced and no request fails")
    func restartsInQuickSuccession() async throws {
        let upstream = try RecordingUpstream()
        let harness = try GatewayHarness(upstreamPort: upstream.port)
        let key = try harness.issueAPIKey()
        var statuses = [await harness.send("GET", "/tas/api/incidents", key: key).status]
        for _ in 0..<3 {
            upstream.restart()
            statuses.append(await harness.send("GET", "/tas/api/incidents", key: key).status)
            statuses.append(await harness.send("GET", "/tas/api/incidents", key: key).status)
        }
        let logins = upstream.logins
        let checks = upstream.tokenChecks
        _ = await harness.stop()
        upstream.stop()

        #expect(statuses == Array(repeating: 201, count: 7))
        #expect(logins == 4)
        // The first restart kills a token older than the last rejection: dropped at once. The
        // later ones kill fresh tokens, which the gateway checks before logging in again.
        #expect(checks == 2)
    }
}
