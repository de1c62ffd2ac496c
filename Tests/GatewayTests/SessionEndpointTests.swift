import Testing
@testable import Gateway

/// `/tas/api/logout` and `/tas/api/login/...` are answered by the gateway: forwarded, a client's
/// logout ended the pooled token every client of the account shares, and a login was taken for a
/// rejected token (invalidate, log in again, 502).
@Suite("Legacy session endpoints", .serialized)
struct SessionEndpointTests {
    @Test("login and logout are recognized however the path is written; other paths are not")
    func classification() {
        for target in ["/tas/api/logout", "/tas/api/logout/", "/tas/api/logout?x=1", "/tas/api/logout;jsessionid=1",
                       "/tas/api/%6Cogout", "//tas/api/logout", "https://gw.example/tas/api/logout"] {
            #expect(LegacySessionEndpoint(target: target) == .logout, "\(target)")
        }
        for target in ["/tas/api/login/operator", "/tas/api/login/person", "/tas/api/login", "/tas/api/login/",
                       "/tas/api/login/operator?x", "/tas/api/%6c%6f%67%69%6e/operator"] {
            #expect(LegacySessionEndpoint(target: target) == .login, "\(target)")
        }
        for target in ["/tas/api/incidents", "/tas/api/logouts", "/tas/api/loginx", "/tas/api/incidents/logout",
                       "/tas/Api/logout", "/tas/api/version?next=/tas/api/logout", "/tas/login/operator", "*",
                       "/tas/api/%zz/logout"] {
            #expect(LegacySessionEndpoint(target: target) == nil, "\(target)")
        }
    }

    @Test("a client's logout answers 200 without reaching the upstream; the pooled token lives on")
    func logoutIsANoOp() async throws {
        let upstream = try ServedLegacyTopdesk()
        let harness = try GatewayHarness(upstreamPort: upstream.apiPort)
        let key = try harness.issueAPIKey()
        let first = await harness.send("GET", "/tas/api/version", key: key)
        let requestsBefore = await upstream.stats()["requests"] as? Int
        let logout = await harness.send("GET", "/tas/api/logout", key: key)
        let post = await harness.send("POST", "/tas/api/logout", key: key)
        let anonymous = await harness.client.send("GET", "/tas/api/logout")
        let requestsAfter = await upstream.stats()["requests"] as? Int
        let next = await harness.send("GET", "/tas/api/incidents/number/I%201602%20001", key: key)
        let logins = await upstream.logins()
        let logouts = await upstream.stats()["logouts"] as? Int
        let log = await harness.accessLog(atLeast: 5)
        _ = await harness.stop()

        #expect(first.status == 200)
        #expect(logout.status == 200)
        #expect(logout.body.isEmpty)
        #expect(logout.headers.first(name: "X-Request-ID") != nil)
        #expect(post.status == 405)
        #expect(anonymous.status == 401)
        #expect(requestsAfter == requestsBefore)
        #expect(next.status == 200)
        #expect(logins == 1)
        #expect(logouts == 0)
        #expect(log.contains { $0["path"] as? String == "/tas/api/logout" && $0["status"] as? Int == 200 })
    }

    @Test("a token login through the gateway gets 400 JSON guidance, before authentication, upstream untouched")
    func loginIsRefused() async throws {
        let upstream = try ServedLegacyTopdesk()
        let harness = try GatewayHarness(upstreamPort: upstream.apiPort)
        let key = try harness.issueAPIKey()
        _ = await harness.send("GET", "/tas/api/version", key: key)
        let requestsBefore = await upstream.stats()["requests"] as? Int
        let withKey = await harness.send("GET", "/tas/api/login/operator", key: key)
        // Basic api.operator:Operator-Pass-1, the install's own password.
        let installPassword = ("Authorization", "Basic YXBpLm9wZXJhdG9yOk9wZXJhdG9yLVBhc3MtMQ==")
        let oldStyle = await harness.client.send("GET", "/tas/api/login/person", headers: [installPassword])
        let requestsAfter = await upstream.stats()["requests"] as? Int
        let next = await harness.send("GET", "/tas/api/version", key: key)
        let logins = await upstream.logins()
        _ = await harness.stop()

        for response in [withKey, oldStyle] {
            #expect(response.status == 400)
            #expect(response.json?["error"] as? String == "token login not offered")
            #expect((response.json?["detail"] as? String)?.contains("credential") == true)
        }
        #expect(requestsAfter == requestsBefore)
        #expect(next.status == 200)
        #expect(logins == 1)
    }

    @Test("a path with dot segments or encoded slashes gets 400 for every credential, so none walks to logout")
    func dotSegmentsAreRefused() async throws {
        let upstream = try ServedLegacyTopdesk()
        let harness = try GatewayHarness(upstreamPort: upstream.apiPort)
        let unscoped = try harness.issueAPIKey()
        let scoped = try harness.issueAPIKey(client: "reader", scopes: ["GET:/tas/api/incidents"])
        _ = await harness.send("GET", "/tas/api/version", key: unscoped)
        let requestsBefore = await upstream.stats()["requests"] as? Int
        // The install resolves these to /tas/api/logout (or the login) before routing them.
        var refused: [TestResponse] = []
        for target in ["/tas/api/x/../logout", "/tas/api/x/..;/logout", "/tas/api/x/%2e%2e/logout",
                       "/tas/api/./logout", "/tas/api/x/../login/operator", "https://gw.example/tas/api/x/../logout"] {
            refused.append(await harness.send("GET", target, key: unscoped))
        }
        let requestsAfter = await upstream.stats()["requests"] as? Int
        // An absolute-form target is read by its path, for a scoped credential as for any other.
        let absolute = await harness.send("GET", "https://gw.example/tas/api/incidents?page_size=1", key: scoped)
        let logins = await upstream.logins()
        let logouts = await upstream.stats()["logouts"] as? Int
        _ = await harness.stop()

        for response in refused {
            #expect(response.status == 400)
            #expect(response.json?["error"] as? String == "bad request")
            #expect((response.json?["detail"] as? String)?.contains("dot segments") == true)
        }
        #expect(requestsAfter == requestsBefore)
        #expect([200, 206].contains(absolute.status))
        #expect(logins == 1)
        #expect(logouts == 0)
    }
}
