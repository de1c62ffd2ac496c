import Credentials
import Foundation
import HTTP1
import Network
import Synchronization
import TokenPool

/// The running product: client listener, admin listener, one keep-alive client per upstream, the
/// token pool, the credential verifier, and the loops they run on. Built from a resolved
/// `GatewayConfiguration`; `start()` binds, `stop(completion:)` drains and logs tokens out.
///
/// Everything a reload or metrics will need hangs off this object: routes are an immutable table
/// the pipeline reads, the pool takes `reload(accounts:)`, the servers take `reloadTLS`.
public final class Gateway: Sendable {
    /// The ports actually bound (useful with port 0).
    public struct Ports: Sendable, Equatable {
        public var client: Int
        public var admin: Int
    }

    public let configuration: GatewayConfiguration
    public let logger: GatewayLogger
    public let tokenPool: TokenPool
    public let verifier: CredentialVerifier
    public let store: CredentialStore
    let group: EventLoopGroup
    private let upstreams: [String: UpstreamRoute]
    private let server: HTTPServer
    private let adminServer: HTTPServer
    private let refresher: RevocationRefresher
    private let stopped = Mutex(false)

    /// Opens the credential store, loads TLS material and builds every part; binds nothing yet.
    /// Throws `GatewayStartError` naming the part that failed.
    public init(configuration: GatewayConfiguration, logger: GatewayLogger,
                loopCount: Int = System.coreCount) throws(GatewayStartError) {
        self.configuration = configuration
        self.logger = logger
        do {
            store = try CredentialStore(path: configuration.credentials.store)
        } catch {
            throw GatewayStartError("cannot open the credential store \(configuration.credentials.store): \(error)")
        }
        verifier = CredentialVerifier(store: store)
        let group = EventLoopGroup(loopCount: max(1, loopCount))
        self.group = group

        var upstreams: [String: UpstreamRoute] = [:]
        var loginUpstreams: [String: HTTPLegacyLoginClient.Upstream] = [:]
        for upstream in configuration.upstreams {
            var clientConfiguration = HTTPClientConfiguration(host: upstream.url.host, port: upstream.url.port)
            if upstream.url.usesTLS {
                do {
                    clientConfiguration.tls = try TLSClientContext(caFile: upstream.caFile)
                } catch {
                    group.shutdown()
                    throw GatewayStartError("upstreams '\(upstream.name)': cannot set up TLS: \(error)")
                }
            }
            clientConfiguration.connectTimeout = upstream.connectTimeout
            clientConfiguration.responseTimeout = upstream.responseTimeout
            clientConfiguration.maxConnectionsPerLoop = upstream.maxConnections
            let client = HTTPClient(configuration: clientConfiguration, group: group)
            upstreams[upstream.name] = UpstreamRoute(name: upstream.name, url: upstream.url, client: client)
            loginUpstreams[upstream.name] = HTTPLegacyLoginClient.Upstream(
                hostHeader: upstream.url.authority, pathPrefix: upstream.url.pathPrefix,
                transport: HTTPClientLoginTransport(client: client, group: group))
        }
        self.upstreams = upstreams
        tokenPool = TokenPool(policy: configuration.tokenPolicy, accounts: configuration.tokenAccounts,
                              client: HTTPLegacyLoginClient(upstreams: loginUpstreams))

        var routes = GatewayRoutes()
        var accountNames: [AccountKey: String] = [:]
        for account in configuration.accounts {
            accountNames[account.key] = account.name
            guard let handle = tokenPool.account(for: account.key), let upstream = upstreams[account.upstream] else {
                continue
            }
            routes.accounts[account.name] = AccountRoute(name: account.name, account: handle, upstream: upstream)
        }

        let serverTLS: TLSServerContext?
        if let tls = configuration.listen.tls {
            do {
                serverTLS = try TLSServerContext(certificateChainFile: tls.certificate, privateKeyFile: tls.privateKey)
            } catch {
                group.shutdown()
                throw GatewayStartError("listen.tls: cannot load the certificate or key: \(error)")
            }
        } else {
            serverTLS = nil
        }
        let listenAddress: SocketAddress
        let adminAddress: SocketAddress
        do {
            listenAddress = try SocketAddress(host: configuration.listen.address, port: configuration.listen.port)
            adminAddress = try SocketAddress(host: configuration.admin.address, port: configuration.admin.port)
        } catch {
            group.shutdown()
            throw GatewayStartError("\(error)")
        }
        var serverConfiguration = HTTPServerConfiguration(address: listenAddress, tls: serverTLS)
        serverConfiguration.limits.maxHeadBytes = configuration.limits.headBytes
        serverConfiguration.maxBodyBytes = configuration.limits.bodyBytes
        let pipeline = RequestPipeline(
            verifier: verifier, routes: routes, pool: tokenPool, logger: logger,
            settings: .init(replayBufferBytes: configuration.limits.replayBuffer,
                            externalScheme: serverTLS == nil ? "http" : "https"))
        server = HTTPServer(configuration: serverConfiguration, group: group, handler: pipeline)
        adminServer = HTTPServer(configuration: HTTPServerConfiguration(address: adminAddress), group: group,
                                 handler: AdminHandler(pool: tokenPool, accountNames: accountNames))
        refresher = RevocationRefresher(verifier: verifier, loop: group.loops[0])
    }

    /// Binds both listeners and starts the once-a-second revocation check. Returns the bound ports.
    @discardableResult
    public func start() throws(GatewayStartError) -> Ports {
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
    public func stop(completion: @escaping @Sendable (TokenPoolShutdownReport) -> Void = { _ in }) {
        let first = stopped.withLock { stopped in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        logger.info("gateway stopping", ["grace": ConfigurationUnits.format(configuration.shutdown.grace)])
        refresher.stop()
        let adminServer = self.adminServer
        let tokenPool = self.tokenPool
        let upstreams = self.upstreams
        let group = self.group
        let logger = self.logger
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
/// on a gateway that sees no request to notice it.
final class RevocationRefresher: @unchecked Sendable {
    private let verifier: CredentialVerifier
    private let loop: EventLoop
    /// Touched on `loop` only.
    private var timer: TimerID?
    private var running = false

    init(verifier: CredentialVerifier, loop: EventLoop) {
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
            _ = verifier.refreshIfChanged()
            schedule()
        }
    }
}
