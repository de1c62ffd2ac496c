import Foundation
import HTTP1
import Network
import Synchronization
import TokenPool

/// One configured upstream as the request path uses it: where paths and links point, the
/// keep-alive client (one pool per event loop) that carries requests and logins there, and whether
/// it can be reached (for `/readyz`).
///
/// A reload keeps the route of an upstream whose settings did not change and builds a new one for
/// one that did. A route nobody uses any more (no table names it, no request or login holds it)
/// shuts its client down when it is released, so requests that started before a reload finish on
/// the client they started with.
///
/// Reachability is passive, with probes only while in doubt: a request or login that cannot
/// connect (connect or TLS failure) marks the upstream unreachable; from then on a probe
/// (`GET {prefix}/tas/api/version`, which needs no token) goes out every `probeInterval` until an
/// answer of any status arrives, as does any answer to a request or login. A healthy upstream is
/// never probed, so an idle gateway sends the install nothing.
final class UpstreamRoute: Sendable {
    let name: String
    let url: UpstreamURL
    let client: HTTPClient
    /// What the route was built from; a reload compares against it.
    let settings: GatewayConfiguration.Upstream
    /// The CA file's bytes when the route was built: a renewed CA file means a new client.
    let caFileContents: Data?
    private let probeLoop: EventLoop
    private let logger: @Sendable () -> GatewayLogger
    private let health = Mutex(Health())
    /// Mirrors `health.unreachable != nil` so that the request path can tell, with one relaxed
    /// load and no lock, that there is nothing to record.
    private let markedUnreachable = Atomic<Bool>(false)

    private struct Health {
        /// Why it is unreachable (nil while reachable).
        var unreachable: String?
        var probing = false
        var retired = false
    }

    init(settings: GatewayConfiguration.Upstream, client: HTTPClient, caFileContents: Data?, probeLoop: EventLoop,
         logger: @escaping @Sendable () -> GatewayLogger) {
        self.name = settings.name
        self.url = settings.url
        self.settings = settings
        self.client = client
        self.caFileContents = caFileContents
        self.probeLoop = probeLoop
        self.logger = logger
    }

    deinit {
        client.shutdown()
    }

    /// Builds the route of `upstream`: the client, with TLS when the URL is https.
    static func make(_ upstream: GatewayConfiguration.Upstream, group: EventLoopGroup,
                     logger: @escaping @Sendable () -> GatewayLogger) throws(GatewayStartError) -> UpstreamRoute {
        var clientConfiguration = HTTPClientConfiguration(host: upstream.url.host, port: upstream.url.port)
        if upstream.url.usesTLS {
            do {
                clientConfiguration.tls = try TLSClientContext(caFile: upstream.caFile)
            } catch {
                throw GatewayStartError("upstreams '\(upstream.name)': cannot set up TLS: \(error)")
            }
        }
        clientConfiguration.connectTimeout = upstream.connectTimeout
        clientConfiguration.responseTimeout = upstream.responseTimeout
        clientConfiguration.maxConnectionsPerLoop = upstream.maxConnections
        return UpstreamRoute(settings: upstream, client: HTTPClient(configuration: clientConfiguration, group: group),
                             caFileContents: upstream.caFile.flatMap(FileManager.default.contents(atPath:)),
                             probeLoop: group.loops[0], logger: logger)
    }

    /// True when a reload to `upstream` can keep this route: same settings, same CA file bytes.
    func canServe(_ upstream: GatewayConfiguration.Upstream) -> Bool {
        upstream == settings && upstream.caFile.flatMap(FileManager.default.contents(atPath:)) == caFileContents
    }

    // MARK: Reachability

    /// Why the upstream counts as unreachable, or nil.
    var unreachableReason: String? {
        health.withLock { $0.unreachable }
    }

    /// Some answer came back (any status): the upstream is reachable.
    func recordAnswer() {
        guard markedUnreachable.load(ordering: .relaxed) else { return }
        let changed = health.withLock { health -> Bool in
            guard health.unreachable != nil else { return false }
            health.unreachable = nil
            return true
        }
        markedUnreachable.store(false, ordering: .relaxed)
        if changed { logger().info("upstream reachable again", ["upstream": name]) }
    }

    /// An exchange failed; connect and TLS failures mark the upstream unreachable and start the
    /// probes. Timeouts and broken answers say nothing about reachability.
    func recordFailure(_ error: HTTPClientError) {
        switch error.kind {
        case .connectFailed, .tlsFailed:
            break
        case .timeout, .connectionClosed, .protocolError, .poolClosed:
            return
        }
        let (becameUnreachable, startProbing) = health.withLock { health -> (Bool, Bool) in
            let became = health.unreachable == nil
            health.unreachable = "\(error.kind): \(error.detail)"
            let start = !health.probing && !health.retired
            if start { health.probing = true }
            return (became, start)
        }
        markedUnreachable.store(true, ordering: .relaxed)
        if becameUnreachable {
            logger().warning("upstream unreachable", ["upstream": name, "reason": "\(error.kind): \(error.detail)"])
        }
        if startProbing { scheduleProbe() }
    }

    /// The route left service (a reload replaced it, or the gateway stops): no more probes.
    func retire() {
        health.withLock { $0.retired = true }
    }

    private func scheduleProbe() {
        let loop = probeLoop
        loop.execute { [self] in
            loop.scheduleTimer(after: settings.probeInterval) { [self] in probe() }
        }
    }

    /// Runs on `probeLoop`.
    private func probe() {
        let keepProbing = health.withLock { health -> Bool in
            guard health.unreachable != nil, !health.retired else {
                health.probing = false
                return false
            }
            return true
        }
        guard keepProbing else { return }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: url.authority)
        headers.add(name: "User-Agent", value: "TokenBridge-probe")
        let head = HTTPRequestHead(method: "GET", target: url.pathPrefix + "/tas/api/version", version: .http1_1,
                                   headers: headers)
        client.execute(head, body: [], on: probeLoop) { [self] result in
            switch result {
            case .success:
                health.withLock { $0.probing = false }
                recordAnswer()
            case .failure(let error):
                health.withLock { health in
                    if error.kind == .connectFailed || error.kind == .tlsFailed {
                        health.unreachable = "\(error.kind): \(error.detail)"
                    }
                }
                scheduleProbe()
            }
        }
    }
}

/// Logins and logouts of the token pool over an upstream route's client, reporting reachability
/// to the route. Holds the route, so a route replaced by a reload lives until its last logout.
struct UpstreamLoginTransport: LegacyHTTPTransport {
    let route: UpstreamRoute
    let group: EventLoopGroup

    func send(_ head: HTTPRequestHead, maxBodyBytes: Int,
              completion: @escaping @Sendable (Result<(status: Int, body: [UInt8]), LoginFailure>) -> Void) {
        let loop = group.next()
        let route = self.route
        loop.execute {
            route.client.execute(head, body: [], on: loop) { result in
                switch result {
                case .success(let response):
                    route.recordAnswer()
                    if response.body.count > maxBodyBytes {
                        completion(.failure(.implausibleToken(reason: "the body is larger than \(maxBodyBytes) bytes")))
                    } else {
                        completion(.success((response.head.status, response.body)))
                    }
                case .failure(let error):
                    route.recordFailure(error)
                    completion(.failure(.network(detail: "\(error.kind): \(error.detail)")))
                }
            }
        }
    }
}
