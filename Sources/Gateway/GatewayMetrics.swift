import Network
import Synchronization
import TokenPool

/// Everything `/metrics` reports that is counted as it happens: the request path's counts, one
/// `MetricShard` per event loop (summed at scrape time), and the rarer events (logins, logouts,
/// reloads) under a lock, which they can afford. Gauges (open connections, tokens held, account
/// health, upstream reachability) and the token pool's own counters are read at scrape time.
final class GatewayMetrics: Sendable {
    /// Indexed by `EventLoop.index`.
    let shards: [MetricShard]
    private let events = Mutex(EventCounts())

    struct EventCounts: Sendable {
        /// Account to login result label to count.
        var logins: [AccountKey: [String: Int]] = [:]
        var logouts: [AccountKey: [String: Int]] = [:]
        var reloadsApplied = 0
        var reloadsRefused = 0
        /// Credential cache counts of verifiers a reload replaced, so the totals never go down.
        var retiredCacheHits = 0
        var retiredCacheMisses = 0
    }

    init(group: EventLoopGroup) {
        shards = group.loops.map(MetricShard.init(loop:))
    }

    func shard(for loop: EventLoop) -> MetricShard {
        shards[loop.index]
    }

    /// The `result` label of a login: `success` or the failure's class.
    static func loginResultLabel(_ result: Result<String, LoginFailure>) -> String {
        switch result {
        case .success: return "success"
        case .failure(.badCredentials): return "bad_credentials"
        case .failure(.missingAPIPermission): return "missing_permission"
        case .failure(.upstreamStatus): return "upstream_status"
        case .failure(.implausibleToken): return "implausible_token"
        case .failure(.network): return "network"
        case .failure(.tokensRefusedAtOnce): return "tokens_refused"
        }
    }

    func recordLogin(_ account: AccountKey, result: String) {
        events.withLock { $0.logins[account, default: [:]][result, default: 0] += 1 }
    }

    func recordLogout(_ account: AccountKey, succeeded: Bool) {
        events.withLock { $0.logouts[account, default: [:]][succeeded ? "success" : "failure", default: 0] += 1 }
    }

    func recordReload(applied: Bool) {
        events.withLock { counts in
            if applied { counts.reloadsApplied += 1 } else { counts.reloadsRefused += 1 }
        }
    }

    func retireVerifierCounts(hits: Int, misses: Int) {
        events.withLock { counts in
            counts.retiredCacheHits += hits
            counts.retiredCacheMisses += misses
        }
    }

    var eventCounts: EventCounts {
        events.withLock { $0 }
    }
}

/// The pool's login client with every login and logout counted for metrics.
struct MeteredLoginClient: LegacyLoginClient {
    let client: any LegacyLoginClient
    let metrics: GatewayMetrics

    func login(account: AccountKey, password: String,
               completion: @escaping @Sendable (Result<String, LoginFailure>) -> Void) {
        let metrics = self.metrics
        client.login(account: account, password: password) { result in
            metrics.recordLogin(account, result: GatewayMetrics.loginResultLabel(result))
            completion(result)
        }
    }

    func logout(token: LegacyToken, completion: @escaping @Sendable (Result<Void, LoginFailure>) -> Void) {
        let metrics = self.metrics
        client.logout(token: token) { result in
            if case .success = result {
                metrics.recordLogout(token.account, succeeded: true)
            } else {
                metrics.recordLogout(token.account, succeeded: false)
            }
            completion(result)
        }
    }

    func checkToken(_ token: LegacyToken, completion: @escaping @Sendable (Result<Bool, LoginFailure>) -> Void) {
        client.checkToken(token, completion: completion)
    }
}
