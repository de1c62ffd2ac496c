import Foundation
import HTTP1
import LegacyTopdesk
import Synchronization
import Testing
@testable import Gateway

/// End to end: a client over real TLS, the gateway, and the real simulator in this process.
@Suite("Forwarding to the simulator", .serialized)
struct GatewayForwardingTests {
    static let incident = "/tas/api/incidents/number/I%201602%20001"

    @Test("a forwarded request carries the token and forwarding headers, never the client's credential")
    func forwardedHeaders() async throws {
        let upstream = try ServedLegacyTopdesk()
        let harness = try GatewayHarness(upstreamPort: upstream.apiPort)
        let key = try harness.issueAPIKey()
        let response = await harness.send("GET", Self.incident, key: key,
                                          headers: [("X-Request-ID", "trace-123"), ("X-Forwarded-For", "6.6.6.6")])
        let last = await upstream.lastRequest()
        _ = await harness.stop()
        await upstream.stop()

        #expect(response.status == 200)
        #expect(response.headers["X-Request-ID"] == ["trace-123"])
        #expect(response.headers.first(name: "Transfer-Encoding") == nil
                || response.headers.first(name: "Content-Length") == nil)
        let forwarded = try #require(last)
        #expect(forwarded.target == Self.incident)
        let authorization = try #require(forwarded.headers.first(name: "Authorization"))
        #expect(authorization.hasPrefix("TOKEN id=\""))
        #expect(forwarded.headers.first(name: "X-API-Key") == nil)
        #expect(forwarded.headers["X-Forwarded-For"] == ["127.0.0.1"])
        #expect(forwarded.headers.first(name: "X-Forwarded-Proto") == "https")
        #expect(forwarded.headers.first(name: "X-Forwarded-Host") == "127.0.0.1:\(harness.ports.client)")
        #expect(forwarded.headers.first(name: "X-Request-ID") == "trace-123")
        #expect(forwarded.headers.first(name: "Host") == "127.0.0.1:\(upstream.apiPort)")
    }

    @Test("application passwords (Basic in any case), Bearer and X-API-Key all get through")
    func clientCredentialKinds() async throws {
        let upstream = try ServedLegacyTopdesk()
        let harness = try GatewayHarness(upstreamPort: upstream.apiPort)
        let key = try harness.issueAPIKey()
        let password = try harness.issueAppPassword(login: "integration.app")
        let basic = Data("integration.app:\(password)".utf8).base64EncodedString()
        var statuses: [String: Int] = [:]
        for scheme in ["Basic", "basic", "BASIC"] {
            statuses[scheme] = await harness.client.send("GET", Self.incident,
                                                         headers: [("Authorization", "\(scheme) \(basic)")]).status
        }
        statuses["Bearer"] = await harness.client.send("GET", Self.incident,
                                                       headers: [("Authorization", "Bearer \(key)")]).status
        statuses["X-API-Key"] = await harness.send("GET", Self.incident, key: key).status
        let wrong = Data("integration.app:not-the-password".utf8).base64EncodedString()
        statuses["wrong"] = await harness.client.send("GET", Self.incident,
                                                      headers: [("Authorization", "Basic \(wrong)")]).status
        _ = await harness.stop()
        await upstream.stop()
        #expect(statuses == ["Basic": 200, "basic": 200, "BASIC": 200, "Bearer": 200, "X-API-Key": 200, "wrong": 401])
    }

    @Test("300 concurrent requests on a cold pool cause exactly one login")
    func singleFlightLogin() async throws {
        let upstream = try ServedLegacyTopdesk()
        let harness = try GatewayHarness(upstreamPort: upstream.apiPort)
        let key = try harness.issueAPIKey()
        let burst = try TestHTTPClient(port: harness.ports.client, caFile: TestCertificates.shared.caFile,
                                       loopCount: 2, maxConnections: 150)
        let statuses = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<300 {
                group.addTask { await burst.send("GET", Self.incident, headers: [("X-API-Key", key)]).status }
            }
            return await group.reduce(into: [Int]()) { $0.append($1) }
        }
        burst.shutdown()
        let logins = await upstream.logins()
        _ = await harness.stop()
        await upstream.stop()
        #expect(statuses.count == 300)
        #expect(statuses.allSatisfy { $0 == 200 }, "statuses: \(Set(statuses))")
        #expect(logins == 1)
    }

    @Test("an upstream restart mid-traffic fails no request: invalidate, log in again, replay",
          arguments: [1, 3])
    func restartMidTraffic(poolSize: Int) async throws {
        let upstream = try ServedLegacyTopdesk()
        // With several tokens, the replay after a 401 must not pick a sibling the restart killed.
        let harness = try GatewayHarness(upstreamPort: upstream.apiPort) { $0.tokens.poolSize = poolSize }
        let key = try harness.issueAPIKey()
        let failures = Shared<[Int]>([])
        let running = Shared(true)
        let sent = Shared(0)
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    while running.value {
                        let body = worker % 2 == 0 ? [] : Array("{\"action\":\"replayed\"}".utf8)
                        let method = worker % 2 == 0 ? "GET" : "PUT"
                        let status = await harness.send(method, Self.incident, key: key,
                                                        headers: [("Content-Type", "application/json")],
                                                        body: body).status
                        sent.update { $0 += 1 }
                        if status != 200 { failures.update { $0.append(status) } }
                    }
                }
            }
            group.addTask {
                for _ in 0..<5 {
                    try? await Task.sleep(for: .milliseconds(300))
                    await upstream.restart()
                }
                try? await Task.sleep(for: .milliseconds(300))
                running.update { $0 = false }
            }
        }
        let logins = await upstream.logins()
        let retried = harness.accessLog.filter { $0["retried"] as? Bool == true }.count
        _ = await harness.stop()
        await upstream.stop()
        #expect(failures.value.isEmpty, "failed statuses: \(failures.value)")
        #expect(sent.value > 20)
        #expect(logins >= 2)
        #expect(retried >= 1)
    }

    @Test("tokens that live 3 s are renewed ahead: steady traffic sees no failure")
    func renewalAheadOfExpiry() async throws {
        var settings = SimulatorSettings()
        settings.tokenLifetime = .seconds(3)
        let upstream = try ServedLegacyTopdesk(settings: settings)
        let harness = try GatewayHarness(upstreamPort: upstream.apiPort) { configuration in
            configuration.tokens.lifetime = .seconds(3)
            configuration.tokens.renewBefore = .seconds(1)
        }
        let key = try harness.issueAPIKey()
        let failures = Shared<[Int]>([])
        let sent = Shared(0)
        let until = Date().addingTimeInterval(10)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<3 {
                group.addTask {
                    while Date() < until {
                        let status = await harness.send("GET", Self.incident, key: key).status
                        sent.update { $0 += 1 }
                        if status != 200 { failures.update { $0.append(status) } }
                        try? await Task.sleep(for: .milliseconds(20))
                    }
                }
            }
        }
        let logins = await upstream.logins()
        let retried = harness.accessLog.filter { $0["retried"] as? Bool == true }.count
        _ = await harness.stop()
        await upstream.stop()
        #expect(failures.value.isEmpty, "failed statuses: \(failures.value)")
        #expect(sent.value > 100)
        #expect(logins >= 4, "10 s of 3 s tokens need several logins")
        #expect(retried == 0, "renewal ahead of expiry should leave nothing to replay")
    }

    @Test("a wrong upstream password: 502 naming the account, at most 3 login attempts, not ready")
    func wrongUpstreamPassword() async throws {
        let upstream = try ServedLegacyTopdesk()
        let harness = try GatewayHarness(upstreamPort: upstream.apiPort, password: "Wrong-Password-9")
        let key = try harness.issueAPIKey()
        var responses: [TestResponse] = []
        for _ in 0..<20 {
            responses.append(await harness.send("GET", Self.incident, key: key))
            try await Task.sleep(for: .milliseconds(50))
        }
        let ready = await harness.admin.send("GET", "/readyz")
        let failures = await upstream.loginFailures()
        _ = await harness.stop()
        await upstream.stop()
        for response in responses {
            #expect(response.status == 502)
            #expect(response.json?["error"] as? String == "upstream login refused")
            let detail = response.json?["detail"] as? String ?? ""
            #expect(detail.contains("'ops'"))
            #expect(!detail.contains("Wrong-Password-9"))
        }
        #expect(failures >= 1 && failures <= 3, "login attempts: \(failures)")
        #expect(ready.status == 503)
        #expect((ready.json?["reason"] as? String)?.contains("ops") == true)
    }

    @Test("an upstream slower than responseTimeout gives 504 JSON")
    func slowUpstream() async throws {
        let upstream = try ServedLegacyTopdesk()
        let harness = try GatewayHarness(upstreamPort: upstream.apiPort) { configuration in
            configuration.upstreams[0].responseTimeout = .milliseconds(500)
        }
        let key = try harness.issueAPIKey()
        let warm = await harness.send("GET", Self.incident, key: key)
        await upstream.setFaults("{\"latencyMs\": 1500}")
        let slow = await harness.send("GET", Self.incident, key: key)
        await upstream.setFaults("{}")
        _ = await harness.stop()
        await upstream.stop()
        #expect(warm.status == 200)
        #expect(slow.status == 504)
        #expect(slow.json?["error"] as? String == "upstream timeout")
    }

    @Test("an HTML 401 that survives the replay becomes a JSON 502")
    func rejectedTwice() async throws {
        var settings = SimulatorSettings()
        settings.tokenLifetime = .zero  // every token is dead on arrival
        settings.html401 = true
        let upstream = try ServedLegacyTopdesk(settings: settings)
        let harness = try GatewayHarness(upstreamPort: upstream.apiPort)
        let key = try harness.issueAPIKey()
        let response = await harness.send("GET", Self.incident, key: key)
        let log = await harness.accessLog(atLeast: 1).last
        _ = await harness.stop()
        await upstream.stop()
        #expect(response.status == 502)
        #expect(response.headers.first(name: "Content-Type") == "application/json")
        #expect(response.json?["error"] as? String == "upstream rejected token")
        #expect(log?["retried"] as? Bool == true)
        #expect(log?["termination"] as? String == "tokenRejected")
    }

    @Test("a rejected token with a body over the replay buffer gets a clear 502 instead of a replay")
    func bodyTooLargeToReplay() async throws {
        let upstream = try ServedLegacyTopdesk()
        let harness = try GatewayHarness(upstreamPort: upstream.apiPort) { configuration in
            configuration.limits.replayBuffer = 16
        }
        let key = try harness.issueAPIKey()
        let small = Array("{\"action\":\"a\"}".utf8)
        let large = Array("{\"action\":\"a note longer than sixteen bytes\"}".utf8)
        let headers = [("Content-Type", "application/json")]
        let warm = await harness.send("PUT", Self.incident, key: key, headers: headers, body: small)
        await upstream.restart()
        let refused = await harness.send("PUT", Self.incident, key: key, headers: headers, body: large)
        await upstream.restart()
        let replayed = await harness.send("PUT", Self.incident, key: key, headers: headers, body: small)
        _ = await harness.stop()
        await upstream.stop()
        #expect(warm.status == 200)
        #expect(refused.status == 502)
        #expect(refused.json?["error"] as? String == "upstream rejected token")
        #expect((refused.json?["detail"] as? String)?.contains("too large to replay") == true)
        #expect(replayed.status == 200)
    }

    @Test("no log line carries a token, a client secret or the account password; shutdown logs out")
    func logsCarryNoSecrets() async throws {
        let upstream = try ServedLegacyTopdesk()
        let harness = try GatewayHarness(upstreamPort: upstream.apiPort)
        let key = try harness.issueAPIKey()
        let password = try harness.issueAppPassword(login: "integration.app")
        let basic = Data("integration.app:\(password)".utf8).base64EncodedString()
        _ = await harness.send("GET", Self.incident, key: key)
        _ = await harness.client.send("GET", Self.incident + "?token=\(key)",
                                      headers: [("Authorization", "Basic \(basic)")])
        _ = await harness.send("GET", "/tas/api/nothing-here",
                               key: "tbk_aaaaaaaaaaaa_" + String(repeating: "x", count: 32))
        await upstream.restart()
        _ = await harness.send("GET", Self.incident, key: key)
        let status = await harness.admin.send("GET", "/status")
        let forwarded = await upstream.lastRequest()
        let token = try #require(forwarded?.headers.first(name: "Authorization")?
            .split(separator: "\"").dropFirst().first.map(String.init))
        let report = await harness.stop()
        let logouts = await upstream.stats()["logouts"] as? Int ?? 0
        await upstream.stop()

        let lines = harness.logs.contents
        #expect(await harness.accessLog(atLeast: 4).count == 4)
        let secrets = [key, password, basic, token, GatewayHarness.operatorPassword]
        for line in lines {
            for secret in secrets { #expect(!line.contains(secret), "a log line carries a secret: \(line)") }
        }
        #expect(!status.text.contains(token))
        #expect((status.json?["accounts"] as? [[String: Any]])?.first?["tokenCount"] as? Int == 1)
        #expect(report.loggedOut == 1)
        #expect(logouts == 1)
    }
}
