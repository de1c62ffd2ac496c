import Credentials
import Foundation
import HTTP1
import Network
import Synchronization
import TokenPool

/// The running product: client listener, admin listener, one keep-alive client per upstream, the
/// token pool, the credential verifier, and the loops they run on. Built from a resolved
/// `GatewayConfiguration`; `start()` binds, `reload(configuration:)` swaps the configuration in
/// without dropping a request (Gateway+Reload.swift), `stop(completion:)` drains and logs tokens
/// out.
public final class Gateway: Sendable {
    /// The ports actually bound (useful with port 0).
    public struct Ports: Sendable, Equatable {
        public var client: Int
        public var admin: Int
    }

    /// The configuration now in force (after reloads: the newest one applied, with the keys that
    /// need a restart still at their running values).
    public var configuration: GatewayConfiguration { active.withLock { $0.configuration } }
    public var logger: GatewayLogger { active.withLock { $0.logger } }
    public var verifier: CredentialVerifier { active.withLock { $0.verifier } }
    public var store: CredentialStore { active.withLock { $0.store } }
    public let tokenPool: TokenPool
    let group: EventLoopGroup
    let metrics: GatewayMetrics
    /// What the current configuration built; replaced whole by a reload.
    let active: Mutex<ActiveConfiguration>
    /// The request path's view of `active`, one reference per loop.
    let snapshots: LoopLocal<PipelineSnapshot>
    let loginClient: HTTPLegacyLoginClient
    /// The current logger and configuration for parts that must not own the gateway.
    let activeBox: ActiveBox
    let server: HTTPServer
    private let adminServer: HTTPServer
    private let refresher: RevocationRefresher
    let lifecycle = Mutex(Lifecycle.running)

    enum Lifecycle {
        case running
        case reloading
        case stopped
    }

    /// Opens the credential store, loads TLS material and builds every part; binds nothing yet.
    /// Throws `GatewayStartError` naming the part that failed.
    public init(configuration: GatewayConfiguration, logger: GatewayLogger,
                loopCount: Int = System.coreCount) throws(GatewayStartError) {
        let store: CredentialStore
        do {
            store = try CredentialStore(path: configuration.credentials.store)
        } catch {
            throw GatewayStartError("cannot open the credential store \(configuration.credentials.store): \(error)")
        }
        let verifier = CredentialVerifier(store: store)
        let group = EventLoopGroup(loopCount: max(1, loopCount))
        self.group = group
        let metrics = GatewayMetrics(group: group)
        self.metrics = metrics

        // Upstream routes log through whichever logger is current; `active` exists by then.
        let activeBox = ActiveBox()
        self.activeBox = activeBox
        let logger = logger
        let upstreams: [String: UpstreamRoute]
        let serverTLS: TLSServerContext?
        let listenAddress: SocketAddress
        let adminAddress: SocketAddress
        do throws(GatewayStartError) {
            upstreams = try Self.makeUpstreams(configuration, reusing: [:], group: group) {
                activeBox.logger ?? logger
            }
            serverTLS = try Self.makeServerTLS(configuration)
            do {
                listenAddress = try SocketAddress(host: configuration.listen.address, port: configuration.listen.port)
                adminAddress = try SocketAddress(host: configuration.admin.address, port: configuration.admin.port)
            } catch {
                throw GatewayStartError("\(error)")
            }
        } catch {
            group.shutdown()
            throw error
        }

        loginClient = HTTPLegacyLoginClient(upstreams: Self.loginUpstreams(upstreams, group: group))
        tokenPool = TokenPool(policy: configuration.tokenPolicy, accounts: configuration.tokenAccounts,
                              client: MeteredLoginClient(client: loginClient, metrics: metrics))
        let generation = ActiveConfiguration(
            configuration: configuration, logger: logger, store: store, verifier: verifier, upstreams: upstreams,
            snapshot: Self.makeSnapshot(configuration, upstreams: upstreams, pool: tokenPool, verifier: verifier,
                                        logger: logger))
        active = Mutex(generation)
        activeBox.logger = logger
        snapshots = LoopLocal(loopCount: group.loops.count, initial: generation.snapshot)

        var serverConfiguration = HTTPServerConfiguration(address: listenAddress, tls: serverTLS)
        serverConfiguration.limits.maxHeadBytes = configuration.limits.headBytes
        serverConfiguration.maxBodyBytes = configuration.limits.bodyBytes
        let pipeline = RequestPipeline(snapshots: snapshots, pool: tokenPool, metrics: metrics, group: group)
        server = HTTPServer(configuration: serverConfiguration, group: group, handler: pipeline)
        adminServer = HTTPServer(configuration: HTTPServerConfiguration(address: adminAddress), group: group,
                                 handler: AdminHandler(source: AdminSource(active: activeBox, pool: tokenPool,
                                                                           metrics: metrics, server: server)))
        refresher = RevocationRefresher(verifier: { activeBox.verifier }, loop: group.loops[0])
        activeBox.gateway = self
    }

    /// Binds both listeners and starts the once-a-second revocation check. Returns the bound ports.
    @discardableResult
    public func start() throws(GatewayStartError) -> Ports {
        let configuration = self.configuration
        let clientPort: Int
        let adminPort: Int
        do {
            clientPort = try server.start()
        } catch {
            throw GatewayStartError("listen: cannot listen on \(configuration.listen.address) port "
                                    + "\(configuration.listen.port): \(error)")
        }
        do {
            adminPort = try adminServer.start()
        } catch {
            server.stop(grace: .zero) {}
            throw GatewayStartError("admin.listen: cannot listen on \(configuration.admin.address) port "
                                    + "\(configuration.admin.port): \(error)")
        }
        refresher.start()
        let logger = self.logger
        for warning in configuration.warnings { logger.warning(warning.message, ["key": warning.path]) }
        logger.info("gateway started", [
            "listen": "\(configuration.listen.address):\(clientPort)",
            "admin": "\(configuration.admin.address):\(adminPort)",
            "tls": configuration.listen.tls == nil ? "off" : "on",
            "accounts": String(configuration.accounts.count),
        ])
        return Ports(client: clientPort, admin: adminPort)
    }

    /// Stops accepting, lets requests in flight finish for up to `shutdown.grace`, logs every
    /// token out (waiting at most 5 s for the upstream), then stops the loops. `completion` runs
    /// once, on a thread of its own choosing, when all is done. Calling it twice runs only the first.
    /// A reload under way finishes first.
    public func stop(completion: @escaping @Sendable (TokenPoolShutdownReport) -> Void = { _ in }) {
        guard beginStopping() else { return }
        let (configuration, logger, upstreams) = active.withLock { ($0.configuration, $0.logger, $0.upstreams) }
        logger.info("gateway stopping", ["grace": ConfigurationUnits.format(configuration.shutdown.grace)])
        refresher.stop()
        for upstream in upstreams.values { upstream.retire() }
        let adminServer = self.adminServer
        let tokenPool = self.tokenPool
        let group = self.group
        server.stop(grace: configuration.shutdown.grace) {
            adminServer.stop(grace: .seconds(1)) {
                tokenPool.shutdown(deadline: .seconds(5)) { report in
                    logger.info("tokens logged out", ["loggedOut": String(report.loggedOut),
                                                      "failed": String(report.failed),
                                                      "unanswered": String(report.unanswered)])
                    for upstream in upstreams.values { upstream.client.shutdown() }
                    // The loops cannot be joined from one of their own threads.
                    Thread.detachNewThread {
                        group.shutdown()
                        completion(report)
                    }
                }
            }
        }
    }

    /// True from the moment `stop` was called: `/readyz` then answers 503 so that a load balancer
    /// stops sending while requests in flight drain.
    var isStopping: Bool {
        lifecycle.withLock { lifecycle in
            if case .stopped = lifecycle { return true }
            return false
        }
    }

    /// Moves to `.stopped`, waiting for a reload in progress to end. False when already stopped.
    private func beginStopping() -> Bool {
        while true {
            let decision = lifecycle.withLock { lifecycle -> Bool? in
                switch lifecycle {
                case .running:
                    lifecycle = .stopped
                    return true
                case .reloading:
                    return nil
                case .stopped:
                    return false
                }
            }
            if let decision { return decision }
            usleep(1000)
        }
    }

    // MARK: Building

    static func makeServerTLS(_ configuration: GatewayConfiguration) throws(GatewayStartError) -> TLSServerContext? {
        guard let tls = configuration.listen.tls else { return nil }
        do {
            return try TLSServerContext(certificateChainFile: tls.certificate, privateKeyFile: tls.privateKey)
        } catch {
            throw GatewayStartError("listen.tls: cannot load the certificate or key: \(error)")
        }
    }

    /// Routes for the configured upstreams, keeping those of `reusing` whose settings still hold.
    static func makeUpstreams(_ configuration: GatewayConfiguration, reusing existing: [String: UpstreamRoute],
                              group: EventLoopGroup, logger: @escaping @Sendable () -> GatewayLogger)
        throws(GatewayStartError) -> [String: UpstreamRoute] {
        var upstreams: [String: UpstreamRoute] = [:]
        for upstream in configuration.upstreams {
            if let kept = existing[upstream.name], kept.canServe(upstream) {
                upstreams[upstream.name] = kept
            } else {
                upstreams[upstream.name] = try UpstreamRoute.make(upstream, group: group, logger: logger)
            }
        }
        return upstreams
    }

    static func loginUpstreams(_ upstreams: [String: UpstreamRoute],
                               group: EventLoopGroup) -> [String: HTTPLegacyLoginClient.Upstream] {
        upstreams.mapValues { route in
            HTTPLegacyLoginClient.Upstream(hostHeader: route.url.authority, pathPrefix: route.url.pathPrefix,
                                           transport: UpstreamLoginTransport(route: route, group: group))
        }
    }

    static func makeSnapshot(_ configuration: GatewayConfiguration, upstreams: [String: UpstreamRoute],
                             pool: TokenPool, verifier: CredentialVerifier, logger: GatewayLogger) -> PipelineSnapshot {
        var routes = GatewayRoutes()
        for account in configuration.accounts {
            guard let handle = pool.account(for: account.key), let upstream = upstreams[account.upstream] else {
                continue
            }
            routes.accounts[account.name] = AccountRoute(name: account.name, account: handle, upstream: upstream)
        }
        return PipelineSnapshot(
            routes: routes, verifier: verifier, logger: logger,
            settings: .init(replayBufferBytes: configuration.limits.replayBuffer,
                            externalScheme: configuration.listen.tls == nil ? "http" : "https"))
    }
}

/// What one configuration built: replaced whole by a reload, read under `Gateway.active`.
struct ActiveConfiguration: Sendable {
    var configuration: GatewayConfiguration
    var logger: GatewayLogger
    var store: CredentialStore
    var verifier: CredentialVerifier
    var upstreams: [String: UpstreamRoute]
    var snapshot: PipelineSnapshot

    /// Account key to the configured account name, for messages and labels people read.
    var accountNames: [AccountKey: String] {
        Dictionary(configuration.accounts.map { ($0.key, $0.name) }, uniquingKeysWith: { first, _ in first })
    }
}

/// Lets parts built before the gateway (upstream routes, the admin handler, the revocation
/// refresher) reach its current configuration without owning the gateway.
final class ActiveBox: Sendable {
    private struct State {
        weak var gateway: Gateway?
        var logger: GatewayLogger?
    }

    private let state = Mutex(State())

    var gateway: Gateway? {
        get { state.withLock { $0.gateway } }
        set { state.withLock { $0.gateway = newValue } }
    }

    /// The current logger (the first one until the gateway exists).
    var logger: GatewayLogger? {
        get { gateway?.logger ?? state.withLock { $0.logger } }
        set { state.withLock { $0.logger = newValue } }
    }

    var verifier: CredentialVerifier? { gateway?.verifier }

    func read<Value>(_ body: (ActiveConfiguration) -> Value) -> Value? {
        guard let gateway else { return nil }
        return gateway.active.withLock { body($0) }
    }
}

/// Why the gateway could not be built or started; the message names the configuration key.
public struct GatewayStartError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// Asks the verifier once a second whether the credential store changed (a revocation by the
/// `credentials` command in another process), so a revoked key stops working within a second even
/// on a gateway that sees no request to notice it. Follows the verifier a reload swaps in.
final class RevocationRefresher: @unchecked Sendable {
    private let verifier: @Sendable () -> CredentialVerifier?
    private let loop: EventLoop
    /// Touched on `loop` only.
    private var timer: TimerID?
    private var running = false

    init(verifier: @escaping @Sendable () -> CredentialVerifier?, loop: EventLoop) {
        self.verifier = verifier
        self.loop = loop
    }

    func start() {
        loop.execute { [self] in
            running = true
            schedule()
        }
    }

    func stop() {
        loop.execute { [self] in
            running = false
            if let timer { loop.cancelTimer(timer) }
            timer = nil
        }
    }

    private func schedule() {
        timer = loop.scheduleTimer(after: .milliseconds(500)) { [self] in
            timer = nil
            guard running else { return }
            _ = verifier()?.refreshIfChanged()
            schedule()
        }
    }
}
