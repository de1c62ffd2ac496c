import Network

/// A latency histogram with fixed buckets, counted in nanoseconds. A value type: shards own one
/// each, and a scrape adds copies together.
struct LatencyHistogram: Sendable, Equatable {
    /// Upper bounds of the buckets, in seconds (the `le` labels); `+Inf` is implied.
    static let boundsInSeconds: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                            2.5, 5, 10, 30, 60]
    private static let boundsInNanoseconds: [UInt64] = boundsInSeconds.map { UInt64($0 * 1e9) }

    /// Observations per bucket (not cumulative); the last one is above every bound.
    private(set) var bucketCounts = [Int](repeating: 0, count: boundsInSeconds.count + 1)
    private(set) var sumNanoseconds: UInt64 = 0
    private(set) var count = 0

    mutating func observe(nanoseconds: UInt64) {
        var index = 0
        while index < Self.boundsInNanoseconds.count, nanoseconds > Self.boundsInNanoseconds[index] { index += 1 }
        bucketCounts[index] += 1
        sumNanoseconds &+= nanoseconds
        count += 1
    }

    mutating func add(_ other: LatencyHistogram) {
        for index in bucketCounts.indices { bucketCounts[index] += other.bucketCounts[index] }
        sumNanoseconds &+= other.sumNanoseconds
        count += other.count
    }

    /// Cumulative counts per bound, as the exposition format wants them (`+Inf` excluded: it is
    /// `count`).
    var cumulativeCounts: [Int] {
        var running = 0
        return bucketCounts.dropLast().map { running += $0; return running }
    }
}

/// What the request path counts, as plain values: what one loop holds, and the sum over loops.
struct RequestMetrics: Sendable, Equatable {
    /// Indexed by `MetricRoute.rawValue * statusClassCount + MetricStatusClass.rawValue`.
    var requests = [Int](repeating: 0, count: MetricRoute.allCases.count * MetricStatusClass.allCases.count)
    /// Indexed like `AccessLogTermination.allCases`.
    var terminations = [Int](repeating: 0, count: AccessLogTermination.allCases.count)
    var requestDuration = LatencyHistogram()
    var upstreamDuration = LatencyHistogram()
    var tokenWait = LatencyHistogram()
    /// Requests sent once more after the upstream rejected their token.
    var replays = 0
    /// Upstream 401s to a token the gateway injected.
    var tokenRejections = 0
    /// Connections open on the client listener and to upstreams (name to count), read at scrape
    /// time on each loop.
    var openClientConnections = 0
    var openUpstreamConnections: [String: Int] = [:]

    func requestCount(route: MetricRoute, statusClass: MetricStatusClass) -> Int {
        requests[route.rawValue * MetricStatusClass.allCases.count + statusClass.rawValue]
    }

    mutating func add(_ other: RequestMetrics) {
        for index in requests.indices { requests[index] += other.requests[index] }
        for index in terminations.indices { terminations[index] += other.terminations[index] }
        requestDuration.add(other.requestDuration)
        upstreamDuration.add(other.upstreamDuration)
        tokenWait.add(other.tokenWait)
        replays += other.replays
        tokenRejections += other.tokenRejections
        openClientConnections += other.openClientConnections
        openUpstreamConnections.merge(other.openUpstreamConnections, uniquingKeysWith: +)
    }
}

/// The request metrics of one event loop. Written only by that loop's thread (the request path
/// runs there) and read only there too: a scrape visits each loop with `execute` and copies its
/// shard. So the request path counts with plain integers, without locks or atomics, and no two
/// loops ever write the same cache line. (Reading another loop's integers without the hop would
/// be a data race, which Swift 6 rightly refuses to call safe, torn values or not.)
final class MetricShard: @unchecked Sendable {
    let loop: EventLoop
    /// Loop thread only.
    private var metrics = RequestMetrics()
    /// Every termination, in the order of `RequestMetrics.terminations`. Found by a short scan:
    /// a dictionary lookup would hash the case every request, which costs more.
    private static let terminations = AccessLogTermination.allCases

    init(loop: EventLoop) {
        self.loop = loop
    }

    /// Counts one finished request. Loop thread only.
    func record(_ outcome: RequestOutcome, path: String, totalNanoseconds: UInt64) {
        assert(loop.inEventLoop)
        let route = MetricRoute.classify(path: path)
        let statusClass = MetricStatusClass(status: outcome.status)
        metrics.requests[route.rawValue * MetricStatusClass.allCases.count + statusClass.rawValue] += 1
        metrics.terminations[Self.terminations.firstIndex(of: outcome.termination) ?? 0] += 1
        metrics.requestDuration.observe(nanoseconds: totalNanoseconds)
        if outcome.gotToken { metrics.tokenWait.observe(nanoseconds: outcome.tokenWaitNanoseconds) }
        if outcome.reachedUpstream { metrics.upstreamDuration.observe(nanoseconds: outcome.upstreamNanoseconds) }
        if outcome.retried { metrics.replays += 1 }
    }

    /// Counts an upstream 401 to an injected token. Loop thread only.
    func recordTokenRejection() {
        metrics.tokenRejections += 1
    }

    /// A copy of the counts. Loop thread only.
    func snapshot() -> RequestMetrics {
        assert(loop.inEventLoop)
        return metrics
    }
}
