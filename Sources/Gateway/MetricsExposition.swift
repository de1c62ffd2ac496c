import TokenPool

/// Renders `/metrics` in the Prometheus text exposition format (version 0.0.4): every family with
/// `# HELP` and `# TYPE`, counters ending in `_total`, durations in seconds, label values escaped.
/// Labels carry configured names (accounts, upstreams) and bounded sets only, never a path,
/// credential or token.
struct MetricsExposition {
    struct Account {
        var name: String
        var status: TokenAccountStatus
    }

    struct Upstream {
        var name: String
        var reachable: Bool
    }

    var requests: RequestMetrics
    var accounts: [Account]
    var upstreams: [Upstream]
    var events: GatewayMetrics.EventCounts
    var cacheHits: Int
    var cacheMisses: Int

    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    func render() -> String {
        var text = ""
        func family(_ name: String, _ type: String, _ help: String) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        func sample(_ name: String, _ labels: [(String, String)] = [], _ value: String) {
            text += name
            if !labels.isEmpty {
                text += "{" + labels.map { "\($0.0)=\"\(Self.escape($0.1))\"" }.joined(separator: ",") + "}"
            }
            text += " \(value)\n"
        }
        func histogram(_ name: String, _ help: String, _ histogram: LatencyHistogram) {
            family(name, "histogram", help)
            for (bound, count) in zip(LatencyHistogram.boundsInSeconds, histogram.cumulativeCounts) {
                sample(name + "_bucket", [("le", Self.format(bound))], String(count))
            }
            sample(name + "_bucket", [("le", "+Inf")], String(histogram.count))
            sample(name + "_sum", [], Self.format(Double(histogram.sumNanoseconds) / 1e9))
            sample(name + "_count", [], String(histogram.count))
        }

        family("tokenbridge_requests_total", "counter", "Requests answered, by route and status class.")
        for route in MetricRoute.allCases {
            for statusClass in MetricStatusClass.allCases {
                sample("tokenbridge_requests_total", [("route", route.label), ("status_class", statusClass.label)],
                       String(requests.requestCount(route: route, statusClass: statusClass)))
            }
        }
        family("tokenbridge_request_terminations_total", "counter",
               "Requests by how they ended (ok, unauthorized, upstreamTimeout, ...), as in the access log.")
        for (index, termination) in AccessLogTermination.allCases.enumerated() {
            sample("tokenbridge_request_terminations_total", [("termination", termination.rawValue)],
                   String(requests.terminations[index]))
        }
        histogram("tokenbridge_request_duration_seconds",
                  "Time from the request head to the last response byte, every request.", requests.requestDuration)
        histogram("tokenbridge_upstream_duration_seconds",
                  "Time from sending to the upstream to its last response byte, forwarded requests.",
                  requests.upstreamDuration)
        histogram("tokenbridge_token_wait_seconds",
                  "Time spent waiting for a legacy token (0 when one was held), forwarded requests.",
                  requests.tokenWait)
        family("tokenbridge_token_rejections_total", "counter", "Upstream 401 answers to a token the gateway injected.")
        sample("tokenbridge_token_rejections_total", [], String(requests.tokenRejections))
        family("tokenbridge_replays_total", "counter", "Requests sent once more with a fresh token after a 401.")
        sample("tokenbridge_replays_total", [], String(requests.replays))

        // One family at a time, every account under it: the format wants a family's samples
        // together, right after its header.
        func perAccount(_ name: String, _ type: String, _ help: String,
                        _ values: (Account) -> [(labels: [(String, String)], value: String)]) {
            family(name, type, help)
            for account in accounts {
                for (labels, value) in values(account) {
                    sample(name, [("account", account.name)] + labels, value)
                }
            }
        }
        func byResult(_ counts: [String: Int]?) -> [(labels: [(String, String)], value: String)] {
            (counts ?? [:]).sorted { $0.key < $1.key }.map { ([("result", $0.key)], String($0.value)) }
        }
        perAccount("tokenbridge_logins_total", "counter", "Legacy logins by account and result.") {
            byResult(events.logins[$0.status.account])
        }
        perAccount("tokenbridge_logouts_total", "counter", "Legacy logouts by account and result.") {
            byResult(events.logouts[$0.status.account])
        }
        perAccount("tokenbridge_token_renewals_total", "counter",
                   "Logins made while a token still served (renewals and pool top-ups), by account.") {
            [([], String($0.status.renewals))]
        }
        perAccount("tokenbridge_token_invalidations_total", "counter",
                   "Tokens dropped because the upstream rejected them, by account.") {
            [([], String($0.status.invalidations))]
        }
        perAccount("tokenbridge_fresh_tokens_refused_total", "counter",
                   "Fresh tokens the upstream refused before they served, by account (three in a row: back-off).") {
            [([], String($0.status.freshTokensRefused))]
        }
        perAccount("tokenbridge_account_tokens", "gauge", "Usable tokens held, by account.") {
            [([], String($0.status.tokenCount))]
        }
        perAccount("tokenbridge_account_healthy", "gauge",
                   "1 unless the account's login was refused for good (bad password, no API permission).") {
            [([], $0.status.isHealthy ? "1" : "0")]
        }
        perAccount("tokenbridge_account_consecutive_login_failures", "gauge", "Login failures in a row, by account.") {
            [([], String($0.status.consecutiveFailures))]
        }

        family("tokenbridge_open_client_connections", "gauge", "Client connections open on the listener.")
        sample("tokenbridge_open_client_connections", [], String(requests.openClientConnections))
        family("tokenbridge_open_upstream_connections", "gauge", "Keep-alive connections open, by upstream.")
        for upstream in upstreams {
            sample("tokenbridge_open_upstream_connections", [("upstream", upstream.name)],
                   String(requests.openUpstreamConnections[upstream.name] ?? 0))
        }
        family("tokenbridge_upstream_up", "gauge",
               "0 while the upstream counts as unreachable (a connect failed, no answer since), else 1.")
        for upstream in upstreams {
            sample("tokenbridge_upstream_up", [("upstream", upstream.name)], upstream.reachable ? "1" : "0")
        }
        family("tokenbridge_credential_cache_hits_total", "counter", "Credential checks answered from memory.")
        sample("tokenbridge_credential_cache_hits_total", [], String(cacheHits))
        family("tokenbridge_credential_cache_misses_total", "counter", "Credential checks that read the store.")
        sample("tokenbridge_credential_cache_misses_total", [], String(cacheMisses))
        family("tokenbridge_config_reloads_total", "counter", "Configuration reloads (SIGHUP), applied or refused.")
        sample("tokenbridge_config_reloads_total", [("result", "applied")], String(events.reloadsApplied))
        sample("tokenbridge_config_reloads_total", [("result", "refused")], String(events.reloadsRefused))
        return text
    }

    static func escape(_ value: String) -> String {
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        return String(value)
    }
}
