import Foundation
import Testing
@testable import Gateway

@Suite("Metrics and readiness", .serialized, .timeLimit(.minutes(2)))
struct MetricsTests {
    @Test("routes come from a fixed list, never from the raw path")
    func routeClassification() {
        #expect(MetricRoute.classify(path: "/tas/api/incidents") == .incidents)
        #expect(MetricRoute.classify(path: "/tas/api/incidents/number/I%201602%20001") == .incidents)
        #expect(MetricRoute.classify(path: "/tas/api/operatorChanges/x/requests") == .operatorChanges)
        #expect(MetricRoute.classify(path: "/tas/api/operatorgroups") == .operatorgroups)
        #expect(MetricRoute.classify(path: "/tas/api/login/operator") == .login)
        #expect(MetricRoute.classify(path: "/tas/api/incidentsX") == .other)
        #expect(MetricRoute.classify(path: "/tas/api/") == .other)
        #expect(MetricRoute.classify(path: "/tas/secure/incidents") == .other)
        #expect(MetricStatusClass(status: 499).label == "4xx")
    }

    @Test("a histogram counts each observation in the first bucket whose bound it does not exceed")
    func histogramBuckets() {
        var histogram = LatencyHistogram()
        histogram.observe(nanoseconds: 500_000)          // exactly 0.0005 s
        histogram.observe(nanoseconds: 3_000_000)        // 0.003 s
        histogram.observe(nanoseconds: 120_000_000_000)  // above every bound
        #expect(histogram.count == 3)
        #expect(histogram.cumulativeCounts.first == 1)
        #expect(histogram.cumulativeCounts[3] == 2, "le=0.005 holds the first two")
        #expect(histogram.cumulativeCounts.last == 2, "the last one only counts in +Inf")
    }

    @Test("after traffic, /metrics counts requests, logins and cache use, and promtool accepts it")
    func metricsAfterTraffic() async throws {
        let simulator = try ServedLegacyTopdesk()
        let harness = try GatewayHarness(upstreamPort: simulator.apiPort)
        let key = try harness.issueAPIKey()
        for _ in 0..<3 {
            #expect(await harness.send("GET", "/tas/api/incidents?page_size=2", key: key).status == 206)
        }
        #expect(await harness.client.send("GET", "/tas/api/incidents").status == 401)
        #expect(await harness.send("GET", "/tas/api/nothing/here", key: key).status == 404)
        _ = await harness.accessLog(atLeast: 5)

        let response = await harness.admin.send("GET", "/metrics")
        #expect(response.status == 200)
        #expect(response.headers.first(name: "Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
        let text = response.text
        #expect(text.contains("tokenbridge_requests_total{route=\"incidents\",status_class=\"2xx\"} 3"))
        #expect(text.contains("tokenbridge_requests_total{route=\"incidents\",status_class=\"4xx\"} 1"))
        #expect(text.contains("tokenbridge_requests_total{route=\"other\",status_class=\"4xx\"} 1"))
        #expect(text.contains("tokenbridge_logins_total{account=\"ops\",result=\"success\"} 1"))
        #expect(text.contains("tokenbridge_request_duration_seconds_count 5"))
        #expect(text.contains("tokenbridge_upstream_duration_seconds_count 4"))
        #expect(text.contains("tokenbridge_token_wait_seconds_count 4"))
        #expect(text.contains("tokenbridge_credential_cache_misses_total 1"))
        #expect(text.contains("tokenbridge_credential_cache_hits_total 3"))
        #expect(text.contains("tokenbridge_account_tokens{account=\"ops\"} 1"))
        #expect(text.contains("tokenbridge_upstream_up{upstream=\"td\"} 1"))
        #expect(!text.contains(key), "no credential in the metrics")
        let openClients = text.split(separator: "\n").first { $0.hasPrefix("tokenbridge_open_client_connections ") }
        #expect(openClients.flatMap { Int($0.split(separator: " ")[1]) }.map { $0 >= 1 } == true)

        let check = try Promtool.checkMetrics(text)
        #expect(check.status == 0, "promtool check metrics: \(check.output)")
        _ = await harness.stop()
        await simulator.stop()
    }

    /// The value of one sample line of the exposition, e.g. `tokenbridge_replays_total`.
    private static func sample(_ name: String, in text: String) -> Int? {
        text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Int($0.split(separator: " ")[1]) }
    }

    @Test("a token the install forgot counts as a rejection, an invalidation, a replay and a second login")
    func rejectionMetrics() async throws {
        let simulator = try ServedLegacyTopdesk()
        let harness = try GatewayHarness(upstreamPort: simulator.apiPort)
        let key = try harness.issueAPIKey()
        #expect(await harness.send("GET", "/tas/api/operators/current", key: key).status == 200)
        #expect(await simulator.restart() == 200)
        #expect(await harness.send("GET", "/tas/api/operators/current", key: key).status == 200)
        _ = await harness.accessLog(atLeast: 2)

        let text = await harness.admin.send("GET", "/metrics").text
        _ = await harness.stop()
        await simulator.stop()
        #expect(Self.sample("tokenbridge_token_rejections_total", in: text) == 1)
        #expect(Self.sample("tokenbridge_replays_total", in: text) == 1)
        #expect(text.contains("tokenbridge_token_invalidations_total{account=\"ops\"} 1"))
        #expect(text.contains("tokenbridge_logins_total{account=\"ops\",result=\"success\"} 2"))
        #expect(text.contains("tokenbridge_token_renewals_total{account=\"ops\"} 0"))
    }

    @Test("a request with a body counts one credential check, though its head is checked before the body")
    func bodyRequestsCountOneCredentialCheck() async throws {
        let simulator = try ServedLegacyTopdesk()
        let harness = try GatewayHarness(upstreamPort: simulator.apiPort)
        let key = try harness.issueAPIKey()
        let body = Array("{\"briefDescription\": \"Counted once\"}".utf8)
        for _ in 0..<3 {
            let response = await harness.send("PUT", "/tas/api/incidents/number/I%201602%20001", key: key,
                                              headers: [("Content-Type", "application/json")], body: body)
            #expect(response.status == 200)
        }
        let text = await harness.admin.send("GET", "/metrics").text
        _ = await harness.stop()
        await simulator.stop()
        #expect(Self.sample("tokenbridge_credential_cache_misses_total", in: text) == 1)
        #expect(Self.sample("tokenbridge_credential_cache_hits_total", in: text) == 2)
    }

    @Test("renewals ahead of expiry show in /metrics, and open upstream connections are counted")
    func renewalMetrics() async throws {
        let simulator = try ServedLegacyTopdesk()
        let harness = try GatewayHarness(upstreamPort: simulator.apiPort) { configuration in
            configuration.tokens.lifetime = .seconds(2)
            configuration.tokens.renewBefore = .seconds(1)
        }
        let key = try harness.issueAPIKey()
        var text = ""
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            #expect(await harness.send("GET", "/tas/api/version", key: key).status == 200)
            text = await harness.admin.send("GET", "/metrics").text
            if !text.contains("tokenbridge_token_renewals_total{account=\"ops\"} 0") { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        _ = await harness.stop()
        await simulator.stop()
        let renewals = Self.sample("tokenbridge_token_renewals_total{account=\"ops\"}", in: text)
        #expect((renewals ?? 0) >= 1, "a 2 s token with 1 s renewal is renewed within 10 s")
        #expect(Self.sample("tokenbridge_replays_total", in: text) == 0, "renewal leaves nothing to replay")
        #expect((Self.sample("tokenbridge_open_upstream_connections{upstream=\"td\"}", in: text) ?? 0) >= 1)
    }

    @Test("an upstream that cannot be connected to makes /readyz 503 until a probe finds it answering")
    func unreachableUpstream() async throws {
        let port = unusedLoopbackPort()
        let harness = try GatewayHarness(upstreamPort: port) { $0.upstreams[0].probeInterval = .milliseconds(100) }
        let key = try harness.issueAPIKey()
        #expect(await harness.admin.send("GET", "/readyz").status == 200, "nothing failed yet")
        #expect(await harness.send("GET", "/tas/api/version", key: key).status == 502)
        let notReady = await harness.admin.send("GET", "/readyz")
        #expect(notReady.status == 503)
        #expect((notReady.json?["reason"] as? String)?.contains("upstream 'td' is unreachable") == true)
        #expect(await harness.admin.send("GET", "/metrics").text.contains("tokenbridge_upstream_up{upstream=\"td\"} 0"))

        let simulator = try ServedLegacyTopdesk(apiPort: port)
        var ready = 0
        for _ in 0..<100 {
            ready = await harness.admin.send("GET", "/readyz").status
            if ready == 200 { break }
            try await Task.sleep(for: .milliseconds(30))
        }
        #expect(ready == 200)
        #expect(harness.logs.contents.contains { $0.contains("upstream reachable again") })
        // The failed login backs off for about a second; then requests get through.
        var status = 0
        for _ in 0..<40 {
            status = await harness.send("GET", "/tas/api/version", key: key).status
            if status == 200 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(status == 200)
        _ = await harness.stop()
        await simulator.stop()
    }
}

/// `promtool check metrics`, reading the exposition on standard input (Debian package `prometheus`,
/// installed by scripts/install-deps).
enum Promtool {
    static func checkMetrics(_ text: String) throws -> (status: Int32, output: String) {
        let path = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first(where: FileManager.default.isExecutableFile)
        guard let path else {
            Issue.record("promtool is not installed: run scripts/install-deps (Debian package prometheus)")
            return (-1, "")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["check", "metrics"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let bytes = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: bytes, as: UTF8.self))
    }
}
