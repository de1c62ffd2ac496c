import Foundation
import Network
import Testing
@testable import Gateway

@Suite("Configuration reload", .serialized, .timeLimit(.minutes(2)))
struct ReloadTests {
    @Test("a reload under steady load loses no request and moves the account to the new upstream")
    func reloadUnderLoad() async throws {
        let first = try ServedLegacyTopdesk()
        let second = try ServedLegacyTopdesk()
        let harness = try GatewayHarness(upstreamPort: first.apiPort)
        let key = try harness.issueAPIKey()
        let stopLoad = Shared(false)
        let statuses = Shared<[Int]>([])

        // Eight clients, each sending one request after the other until told to stop.
        async let load: Void = withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    while !stopLoad.value {
                        let response = await harness.send("GET", "/tas/api/incidents?page_size=2", key: key)
                        statuses.update { $0.append(response.status) }
                    }
                }
            }
        }
        // Counted progress rather than fixed sleeps: a machine busy with other tests is slow.
        func waitForAnswers(_ count: Int) async throws {
            for _ in 0..<1000 where statuses.value.count < count { try await Task.sleep(for: .milliseconds(10)) }
        }
        try await waitForAnswers(40)
        let before = statuses.value.count
        var moved = harness.gateway.configuration
        moved.upstreams[0].url = UpstreamURL(scheme: "http", host: "127.0.0.1", port: second.apiPort)
        let report = try harness.gateway.reload(configuration: moved)
        try await waitForAnswers(before + 80)
        stopLoad.update { $0 = true }
        await load

        let all = statuses.value
        #expect(before >= 40)
        #expect(all.count >= before + 80, "the load kept flowing after the reload")
        // A page of a longer list is 206 Partial Content.
        #expect(all.allSatisfy { $0 == 206 }, "other statuses: \(all.filter { $0 != 206 }) of \(all.count)")
        #expect(report.upstreamsReplaced == ["td"])
        #expect(report.accountsMoved == ["ops"])
        #expect(await second.logins() >= 1, "the account logged in at the new upstream")
        let lastRequestAtSecond = await second.lastRequest()
        #expect(lastRequestAtSecond?.target.hasPrefix("/tas/api/incidents") == true)
        // The token of the old upstream is logged out there, unless a request that started on the
        // new snapshot carried it to the new upstream first: then the 401 dropped it (and the
        // request was replayed with a token of the new upstream).
        var firstLogouts = 0
        for _ in 0..<100 {
            firstLogouts = (await first.stats()["logouts"] as? Int) ?? 0
            if firstLogouts > 0 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let invalidations = harness.gateway.tokenPool.status().first?.invalidations ?? 0
        #expect(firstLogouts + invalidations >= 1)
        #expect(harness.logs.contents.contains { $0.contains("\"configuration reloaded\"") })
        _ = await harness.stop()
        await first.stop()
        await second.stop()
    }

    @Test("a configuration file with errors is refused with a log line and the old configuration keeps serving")
    func brokenFileIsRefused() async throws {
        let simulator = try ServedLegacyTopdesk()
        let harness = try GatewayHarness(upstreamPort: simulator.apiPort)
        let key = try harness.issueAPIKey()
        #expect(await harness.send("GET", "/tas/api/version", key: key).status == 200)

        let broken = harness.directory + "/broken.json5"
        try "{ listen: { port: 8443 }, upstreams: [ { name: \"td\", url: ".write(toFile: broken, atomically: true,
                                                                                  encoding: .utf8)
        let unknownKey = harness.directory + "/unknown-key.json5"
        try """
            { upstreams: [{ name: "td", url: "http://127.0.0.1:1" }],
              accounts: [{ name: "ops", upstream: "td", kind: "operator", login: "x", password: "y" }],
              listn: {} }
            """.write(toFile: unknownKey, atomically: true, encoding: .utf8)
        #expect(harness.gateway.reload(path: broken) == false)
        #expect(harness.gateway.reload(path: unknownKey) == false)
        #expect(harness.gateway.reload(path: harness.directory + "/missing.json5") == false)

        let refusals = harness.logs.contents.filter { $0.contains("configuration reload refused") }
        #expect(refusals.count == 3)
        #expect(refusals.allSatisfy { $0.contains("\"level\":\"error\"") })
        #expect(refusals.contains { $0.contains("listn") }, "the error names the key")
        #expect(await harness.send("GET", "/tas/api/version", key: key).status == 200)
        #expect(harness.gateway.configuration.upstreams[0].url.port == simulator.apiPort)
        let metrics = await harness.admin.send("GET", "/metrics").text
        #expect(metrics.contains("tokenbridge_config_reloads_total{result=\"refused\"} 3"))
        _ = await harness.stop()
        await simulator.stop()
    }

    @Test("listen addresses cannot change live: the reload keeps them and says a restart is needed")
    func restartNeededKeys() async throws {
        let simulator = try ServedLegacyTopdesk()
        let harness = try GatewayHarness(upstreamPort: simulator.apiPort)
        let key = try harness.issueAPIKey()
        var changed = harness.gateway.configuration
        changed.listen.port = 1
        changed.admin.port = 2
        changed.tokens.poolSize = 3
        changed.limits.replayBuffer = 1234
        let report = try harness.gateway.reload(configuration: changed)
        #expect(report.restartNeeded == ["listen.port", "admin.listen", "tokens.poolSize"])
        #expect(harness.gateway.configuration.listen.port == 0)
        #expect(harness.gateway.configuration.limits.replayBuffer == 1234, "a live key is applied")
        #expect(harness.logs.contents.contains { $0.contains("needs a restart") && $0.contains("listen.port") })
        #expect(await harness.send("GET", "/tas/api/version", key: key).status == 200)
        _ = await harness.stop()
        await simulator.stop()
    }

    @Test("a reloaded certificate is used for new handshakes")
    func certificateReload() async throws {
        let simulator = try ServedLegacyTopdesk()
        let harness = try GatewayHarness(upstreamPort: simulator.apiPort)
        let key = try harness.issueAPIKey()
        let renewed = TestCertificates.fresh()
        let trustsRenewed = try TestHTTPClient(port: harness.ports.client, caFile: renewed.caFile)
        defer { trustsRenewed.shutdown() }
        let refusedBefore = await trustsRenewed.send("GET", "/tas/api/version", headers: [("X-API-Key", key)])
        #expect(refusedBefore.status == 0, "the renewed CA does not vouch for the first certificate")

        var changed = harness.gateway.configuration
        changed.listen.tls = .init(certificate: renewed.serverChain, privateKey: renewed.serverKey)
        try harness.gateway.reload(configuration: changed)
        let accepted = await trustsRenewed.send("GET", "/tas/api/version", headers: [("X-API-Key", key)])
        #expect(accepted.status == 200)
        let trustsOld = try TestHTTPClient(port: harness.ports.client, caFile: TestCertificates.shared.caFile)
        defer { trustsOld.shutdown() }
        #expect(await trustsOld.send("GET", "/tas/api/version", headers: [("X-API-Key", key)]).status == 0)
        _ = await harness.stop()
        await simulator.stop()
    }

    @Test("a certificate that does not load refuses the whole reload")
    func badCertificateRefusesReload() async throws {
        let simulator = try ServedLegacyTopdesk()
        let harness = try GatewayHarness(upstreamPort: simulator.apiPort)
        let key = try harness.issueAPIKey()
        var changed = harness.gateway.configuration
        changed.listen.tls = .init(certificate: TestCertificates.shared.serverChain,
                                   privateKey: TestCertificates.fresh().serverKey)
        changed.limits.replayBuffer = 77
        #expect(throws: GatewayStartError.self) { try harness.gateway.reload(configuration: changed) }
        #expect(harness.gateway.configuration.limits.replayBuffer != 77)
        #expect(await harness.send("GET", "/tas/api/version", key: key).status == 200)
        _ = await harness.stop()
        await simulator.stop()
    }
}
