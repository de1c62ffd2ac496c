import Foundation
import HTTP1
import Network
import TokenPool

/// What the admin listener reads: the gateway's current configuration, the pool, the metrics and
/// the client listener (for its open connections).
struct AdminSource: Sendable {
    let active: ActiveBox
    let pool: TokenPool
    let metrics: GatewayMetrics
    let server: HTTPServer
}

/// The admin listener (loopback by default): `GET /healthz` (the process answers), `GET /readyz`
/// (503 with a reason while an account cannot log in or an upstream is unreachable), `GET /status`
/// (the token pool per account, without tokens or secrets) and `GET /metrics` (Prometheus text).
/// Off the request path, so Foundation's JSON is fine here.
final class AdminHandler: HTTPServerHandler {
    private let source: AdminSource

    init(source: AdminSource) {
        self.source = source
    }

    func handle(_ request: HTTPServerRequest, responder: HTTPResponder) {
        let path = AccessLogRecord.path(ofTarget: request.head.target)
        guard request.head.method == "GET" || request.head.method == "HEAD" else {
            respond(405, ["error": "method not allowed"], responder: responder)
            return
        }
        switch path {
        case "/healthz":
            respond(200, ["status": "ok"], responder: responder)
        case "/readyz":
            let reasons = notReadyReasons()
            if reasons.isEmpty {
                respond(200, ["status": "ready"], responder: responder)
            } else {
                respond(503, ["status": "not ready", "reason": reasons.joined(separator: "; ")], responder: responder)
            }
        case "/status":
            let names = accountNames()
            var document: [String: Any] = ["accounts": source.pool.status().map { statusDocument($0, names: names) }]
            document["upstreams"] = upstreams().map { route -> [String: Any] in
                ["name": route.name, "url": route.url.description, "reachable": route.unreachableReason == nil,
                 "unreachableReason": route.unreachableReason ?? NSNull()]
            }
            respond(200, document, responder: responder)
        case "/metrics":
            MetricsScrape.collect(source: source, on: request.eventLoop) { text in
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: MetricsExposition.contentType)
                headers.add(name: "Cache-Control", value: "no-store")
                responder.respond(HTTPResponseHead(status: 200, reason: "OK", headers: headers), body: Array(text.utf8))
            }
        default:
            respond(404, ["error": "not found", "detail": "try /healthz, /readyz, /status or /metrics"],
                    responder: responder)
        }
    }

    /// Why the gateway should not get traffic: accounts that cannot log in (their password was
    /// refused, or they lack API permission), and upstreams that cannot be reached.
    private func notReadyReasons() -> [String] {
        let names = accountNames()
        if source.active.gateway?.isStopping == true { return ["the gateway is shutting down"] }
        var reasons = source.pool.status().filter { !$0.isHealthy }.map { status in
            "account '\(names[status.account] ?? status.account.description)' is \(status.phase.rawValue)"
                + (status.lastLoginResult.map { ": \(describe($0))" } ?? "")
        }
        for route in upstreams() {
            if let reason = route.unreachableReason {
                reasons.append("upstream '\(route.name)' is unreachable: \(reason)")
            }
        }
        return reasons
    }

    private func accountNames() -> [AccountKey: String] {
        source.active.read { $0.accountNames } ?? [:]
    }

    private func upstreams() -> [UpstreamRoute] {
        (source.active.read { Array($0.upstreams.values) } ?? []).sorted { $0.name < $1.name }
    }

    private func statusDocument(_ status: TokenAccountStatus, names: [AccountKey: String]) -> [String: Any] {
        var document: [String: Any] = [
            "name": names[status.account] ?? status.account.description,
            "upstream": status.account.upstream,
            "kind": status.account.kind.rawValue,
            "login": status.account.login,
            "phase": status.phase.rawValue,
            "healthy": status.isHealthy,
            "tokenCount": status.tokenCount,
            "tokenAgesSeconds": status.tokenAges.map(seconds),
            "consecutiveFailures": status.consecutiveFailures,
            "loginAttempts": status.loginAttempts,
            "renewals": status.renewals,
            "invalidations": status.invalidations,
            "freshTokensRefused": status.freshTokensRefused,
            "waiters": status.waiters,
        ]
        document["nextRenewalInSeconds"] = status.nextRenewalIn.map(seconds) ?? NSNull()
        document["retryInSeconds"] = status.retryIn.map(seconds) ?? NSNull()
        document["lastLoginResult"] = status.lastLoginResult.map(describe) ?? NSNull()
        document["lastLoginAgoSeconds"] = status.lastLoginAgo.map(seconds) ?? NSNull()
        return document
    }

    private func describe(_ result: TokenAccountStatus.LoginResult) -> String {
        switch result {
        case .succeeded: return "succeeded"
        case .failed(let failure): return "failed: \(failure)"
        }
    }

    private func seconds(_ duration: Duration) -> Double {
        let (whole, fraction) = duration.components
        return ((Double(whole) + Double(fraction) / 1e18) * 1000).rounded() / 1000
    }

    private func respond(_ status: Int, _ document: [String: Any], responder: HTTPResponder) {
        let body = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])) ?? Data("{}".utf8)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Cache-Control", value: "no-store")
        responder.respond(HTTPResponseHead(status: status, reason: HTTPSerializer.reasonPhrase(for: status),
                                           headers: headers), body: Array(body) + [0x0A])
    }
}

/// One `/metrics` scrape: visits every event loop in turn (each copies its own shard and counts
/// its open connections on its own thread), collects the copies back on the admin request's loop,
/// then renders. Nothing blocks a loop, so two loops scraping at once cannot wait on each other.
final class MetricsScrape: @unchecked Sendable {
    /// Touched only on `home`.
    private var collected = RequestMetrics()
    private var remaining: Int
    private let home: EventLoop
    private let source: AdminSource
    private let upstreams: [UpstreamRoute]
    private let completion: (String) -> Void

    private init(source: AdminSource, home: EventLoop, upstreams: [UpstreamRoute],
                 completion: @escaping (String) -> Void) {
        self.source = source
        self.home = home
        self.upstreams = upstreams
        self.remaining = source.metrics.shards.count
        self.completion = completion
    }

    /// Runs on `loop` (the admin request's); `completion` runs there too.
    static func collect(source: AdminSource, on loop: EventLoop, completion: @escaping (String) -> Void) {
        let upstreams = source.active.read { Array($0.upstreams.values) } ?? []
        let scrape = MetricsScrape(source: source, home: loop, upstreams: upstreams, completion: completion)
        for shard in source.metrics.shards {
            shard.loop.execute {
                var metrics = shard.snapshot()
                metrics.openClientConnections = source.server.openConnectionCount(on: shard.loop)
                for upstream in upstreams {
                    metrics.openUpstreamConnections[upstream.name, default: 0] +=
                        upstream.client.openConnectionCount(on: shard.loop)
                }
                let copy = metrics
                loop.execute { scrape.add(copy) }
            }
        }
    }

    private func add(_ metrics: RequestMetrics) {
        collected.add(metrics)
        remaining -= 1
        guard remaining == 0 else { return }
        let names = source.active.read { $0.accountNames } ?? [:]
        let verifierCounts = source.active.read { $0.verifier.cacheLookupCounts } ?? (hits: 0, misses: 0)
        let events = source.metrics.eventCounts
        let exposition = MetricsExposition(
            requests: collected,
            accounts: source.pool.status().map { .init(name: names[$0.account] ?? $0.account.description, status: $0) },
            upstreams: upstreams.sorted { $0.name < $1.name }.map { .init(name: $0.name,
                                                                            reachable: $0.unreachableReason == nil) },
            events: events, cacheHits: verifierCounts.hits + events.retiredCacheHits,
            cacheMisses: verifierCounts.misses + events.retiredCacheMisses)
        completion(exposition.render())
    }
}
