import Foundation
import Testing
@testable import Gateway

/// What the gateway answers by itself, before or instead of the upstream: these need no upstream,
/// so it points at a port nothing listens on.
@Suite("Gateway refusals", .serialized)
struct GatewayRefusalTests {
    @Test("an unknown key gets 401 JSON with WWW-Authenticate")
    func unknownKey() async throws {
        let harness = try GatewayHarness(upstreamPort: unusedLoopbackPort())
        let unknown = await harness.send("GET", "/tas/api/version",
                                         key: "tbk_aaaaaaaaaaaa_" + String(repeating: "b", count: 34))
        let missing = await harness.client.send("GET", "/tas/api/version")
        let foreign = await harness.client.send("GET", "/tas/api/version",
                                                headers: [("Authorization", "TOKEN id=\"0f83ee44\"")])
        let lines = await harness.accessLog(atLeast: 3)
        _ = await harness.stop()
        // Answered in the pass the request arrived in, after a look-up in the credential store:
        // that time is in the line all the same.
        let unknownLine = lines.first { $0["requestId"] as? String == unknown.headers.first(name: "X-Request-ID") }
        #expect((unknownLine?["totalMs"] as? Double ?? 0) > 0)
        for response in [unknown, missing, foreign] {
            #expect(response.status == 401)
            #expect(response.headers.first(name: "WWW-Authenticate") == "Basic realm=\"TokenBridge\"")
            #expect(response.headers.first(name: "Content-Type") == "application/json")
            #expect(response.json?["error"] as? String == "unauthorized")
            #expect(response.json?["requestId"] as? String == response.headers.first(name: "X-Request-ID"))
        }
    }

    @Test("two credential fields get 401 even when both are valid: which one counts is never guessed")
    func twoCredentials() async throws {
        let harness = try GatewayHarness(upstreamPort: unusedLoopbackPort())
        let key = try harness.issueAPIKey()
        let both = await harness.send("GET", "/tas/api/version", key: key,
                                      headers: [("Authorization", "Bearer \(key)")])
        let twice = await harness.client.send("GET", "/tas/api/version",
                                              headers: [("Authorization", "Bearer \(key)"),
                                                        ("Authorization", "Bearer \(key)")])
        _ = await harness.stop()
        for response in [both, twice] {
            #expect(response.status == 401)
            #expect((response.json?["detail"] as? String)?.contains("more than one credential") == true)
        }
    }

    @Test("a read-only scope gets 403 naming the missing scope on POST")
    func readOnlyScope() async throws {
        let harness = try GatewayHarness(upstreamPort: unusedLoopbackPort())
        let key = try harness.issueAPIKey(scopes: ["GET:/tas/api/"])
        let response = await harness.send("POST", "/tas/api/incidents", key: key,
                                          headers: [("Content-Type", "application/json")],
                                          body: Array("{\"briefDescription\":\"x\"}".utf8))
        _ = await harness.stop()
        #expect(response.status == 403)
        #expect(response.json?["error"] as? String == "forbidden")
        #expect((response.json?["detail"] as? String)?.contains("POST:/tas/api/incidents") == true)
    }

    @Test("an unreachable upstream answers 502 JSON")
    func unreachableUpstream() async throws {
        let harness = try GatewayHarness(upstreamPort: unusedLoopbackPort())
        let key = try harness.issueAPIKey()
        let response = await harness.send("GET", "/tas/api/version", key: key)
        _ = await harness.stop()
        #expect(response.status == 502)
        #expect(response.json?["error"] as? String == "upstream unreachable")
        #expect(response.json?["requestId"] != nil)
    }

    @Test("a revoked key is refused within a second")
    func revocation() async throws {
        let upstream = try ServedLegacyTopdesk()
        let harness = try GatewayHarness(upstreamPort: upstream.apiPort)
        let key = try harness.issueAPIKey()
        let before = await harness.send("GET", "/tas/api/version", key: key)
        try harness.revoke(apiKey: key)
        let revokedAt = Date()
        var after = await harness.send("GET", "/tas/api/version", key: key)
        while after.status != 401, Date().timeIntervalSince(revokedAt) < 3 {
            try await Task.sleep(for: .milliseconds(50))
            after = await harness.send("GET", "/tas/api/version", key: key)
        }
        let elapsed = Date().timeIntervalSince(revokedAt)
        _ = await harness.stop()
        await upstream.stop()
        #expect(before.status == 200)
        #expect(after.status == 401)
        #expect(after.headers.first(name: "WWW-Authenticate") == "Basic realm=\"TokenBridge\"")
        #expect(elapsed < 1.2, "revocation took \(elapsed) s")
    }
}
