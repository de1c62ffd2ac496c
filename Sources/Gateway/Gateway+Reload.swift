import Credentials
import Foundation
import Network
import TokenPool

/// What a reload applied, for the log line and for tests.
public struct GatewayReloadReport: Sendable, Equatable {
    /// Keys whose new value needs a restart; they keep their running value meanwhile.
    public var restartNeeded: [String] = []
    /// Upstreams with a new client (new or changed settings, renewed CA file).
    public var upstreamsReplaced: [String] = []
    /// Accounts whose tokens were dropped because their upstream changed.
    public var accountsMoved: [String] = []
    public var credentialStoreReopened = false
}

extension Gateway {
    /// Reads the configuration file again and applies it (`SIGHUP`). A file that does not load, or
    /// a configuration that cannot be built (a certificate that does not load, a store that does
    /// not open), is refused with an error log line naming the problems, and the configuration in
    /// force keeps serving. `logLevel` (from `--log-level`) overrides `log.level` as at start.
    @discardableResult
    public func reload(path: String, environment: [String: String] = ProcessInfo.processInfo.environment,
                       logLevel: GatewayConfiguration.LogLevel? = nil) -> Bool {
        var configuration: GatewayConfiguration
        do {
            configuration = try GatewayConfiguration.load(path: path, environment: environment)
        } catch {
            metrics.recordReload(applied: false)
            logger.error("configuration reload refused, the running configuration stays", [
                "file": path, "errors": error.errors.map(\.description).joined(separator: "; "),
            ])
            return false
        }
        if let logLevel { configuration.log.level = logLevel }
        do {
            try reload(configuration: configuration)
            return true
        } catch {
            return false
        }
    }

    /// Applies `new` while requests keep flowing:
    ///
    /// 1. Everything that can fail is built first (server certificate, credential store, upstream
    ///    clients); a failure refuses the whole reload and nothing changes.
    /// 2. The token pool gets the accounts (new ones added, removed ones logged out, passwords
    ///    updated; an unhealthy mark is cleared).
    /// 3. A new routing snapshot goes to every event loop; requests already running finish with
    ///    the one they started with, on the upstream client they started with.
    /// 4. Accounts whose upstream moved drop their tokens (logged out at the old upstream).
    /// 5. New TLS handshakes use the new certificate.
    ///
    /// Upstream clients whose settings did not change are kept (with their warm connections);
    /// replaced ones shut down once the last request or login using them is over. Listen
    /// addresses, `limits.headBytes`/`bodyBytes`, `tokens.*` and switching TLS on or off need a
    /// restart: they keep their running value and a warning names them. Must not be called on one
    /// of the gateway's event loops.
    @discardableResult
    public func reload(configuration new: GatewayConfiguration) throws(GatewayStartError) -> GatewayReloadReport {
        let mayReload = lifecycle.withLock { lifecycle -> Bool in
            guard case .running = lifecycle else { return false }
            lifecycle = .reloading
            return true
        }
        guard mayReload else { throw GatewayStartError("the gateway is stopping or already reloading") }
        defer { lifecycle.withLock { $0 = .running } }

        let old = active.withLock { $0 }
        var report = GatewayReloadReport()
        let (effective, restartNeeded) = Self.applicable(new, running: old.configuration)
        report.restartNeeded = restartNeeded
        let logger = GatewayLogger(level: effective.log.level, sink: old.logger.sink)

        // 1. Build what can fail.
        let tls: TLSServerContext?
        let store: CredentialStore
        let verifier: CredentialVerifier
        let upstreams: [String: UpstreamRoute]
        do throws(GatewayStartError) {
            tls = try Self.makeServerTLS(effective)
            if effective.credentials.store == old.configuration.credentials.store {
                store = old.store
                verifier = old.verifier
            } else {
                do {
                    store = try CredentialStore(path: effective.credentials.store)
                } catch {
                    throw GatewayStartError("credentials.store: cannot open \(effective.credentials.store): \(error)")
                }
                verifier = CredentialVerifier(store: store)
                report.credentialStoreReopened = true
            }
            let activeBox = self.activeBox
            upstreams = try Self.makeUpstreams(effective, reusing: old.upstreams, group: group) {
                activeBox.logger ?? logger
            }
        } catch {
            metrics.recordReload(applied: false)
            old.logger.error("configuration reload refused, the running configuration stays",
                             ["errors": error.description])
            throw error
        }
        report.upstreamsReplaced = upstreams.filter { old.upstreams[$0.key] !== $0.value }.keys.sorted()
        let movedKeys = Set(effective.accounts.filter { account in
            guard let before = old.configuration.accounts.first(where: { $0.key == account.key }) else { return false }
            return old.upstreams[before.upstream] !== upstreams[account.upstream]
        }.map(\.key))
        report.accountsMoved = effective.accounts.filter { movedKeys.contains($0.key) }.map(\.name).sorted()

        // 2. Accounts. Logins go to the new upstreams from here on; removed upstreams stay known
        // until the removed accounts' logouts have been sent to them.
        let oldLoginUpstreams = Self.loginUpstreams(old.upstreams, group: group)
        loginClient.reload(upstreams: oldLoginUpstreams.merging(Self.loginUpstreams(upstreams, group: group)) { $1 })
        tokenPool.reload(accounts: effective.tokenAccounts)

        // 3. The new snapshot, on every loop.
        let snapshot = Self.makeSnapshot(effective, upstreams: upstreams, pool: tokenPool, verifier: verifier,
                                         logger: logger)
        active.withLock {
            $0 = ActiveConfiguration(configuration: effective, logger: logger, store: store, verifier: verifier,
                                     upstreams: upstreams, snapshot: snapshot)
        }
        snapshots.publish(snapshot, to: group)

        // 4. Tokens of moved accounts belong to the old upstream: log them out there. This comes
        // after the new snapshot on purpose: a request that already runs on the new snapshot and
        // carries an old token gets a 401 from the new upstream and is replayed with a fresh token
        // (that old token is then dropped without a logout and expires at the old upstream);
        // discarding first would hand requests still on the old snapshot tokens of the new
        // upstream, which the old one refuses even after a replay.
        for token in tokenPool.discardTokens(of: movedKeys) {
            let oldUpstream = old.configuration.accounts.first { $0.key == token.account }?.upstream
            if let upstream = oldUpstream.flatMap({ oldLoginUpstreams[$0] }) {
                HTTPLegacyLoginClient(upstreams: [token.account.upstream: upstream]).logout(token: token) { _ in }
            }
        }
        loginClient.reload(upstreams: Self.loginUpstreams(upstreams, group: group))
        for (name, route) in old.upstreams where upstreams[name] !== route { route.retire() }
        if verifier !== old.verifier {
            let counts = old.verifier.cacheLookupCounts
            metrics.retireVerifierCounts(hits: counts.hits, misses: counts.misses)
        } else {
            // Credentials: a store changed by another process is read again now, not in a second.
            verifier.refreshIfChanged()
        }

        // 5. Certificates.
        if let tls { server.reloadTLS(tls) }

        metrics.recordReload(applied: true)
        for warning in effective.warnings { logger.warning(warning.message, ["key": warning.path]) }
        for key in restartNeeded {
            logger.warning("this change needs a restart; the running value stays until then", ["key": key])
        }
        logger.info("configuration reloaded", [
            "accounts": String(effective.accounts.count),
            "upstreamsReplaced": report.upstreamsReplaced.joined(separator: ","),
            "accountsMoved": report.accountsMoved.joined(separator: ","),
            "tls": tls == nil ? "off" : "reloaded",
        ])
        return report
    }

    /// `new` with every key that cannot change while running put back to its `running` value, and
    /// the names of those keys that differed.
    static func applicable(_ new: GatewayConfiguration,
                           running: GatewayConfiguration) -> (GatewayConfiguration, [String]) {
        var effective = new
        var restartNeeded: [String] = []
        func keep<Value: Equatable>(_ key: String, _ path: WritableKeyPath<GatewayConfiguration, Value>) {
            if effective[keyPath: path] != running[keyPath: path] {
                restartNeeded.append(key)
                effective[keyPath: path] = running[keyPath: path]
            }
        }
        keep("listen.address", \.listen.address)
        keep("listen.port", \.listen.port)
        if (new.listen.tls == nil) != (running.listen.tls == nil) {
            restartNeeded.append("listen.tls")
            effective.listen.tls = running.listen.tls
        }
        keep("admin.listen", \.admin.address)
        if !restartNeeded.contains("admin.listen") { keep("admin.listen", \.admin.port) } else {
            effective.admin.port = running.admin.port
        }
        keep("limits.headBytes", \.limits.headBytes)
        keep("limits.bodyBytes", \.limits.bodyBytes)
        keep("tokens.lifetime", \.tokens.lifetime)
        keep("tokens.renewBefore", \.tokens.renewBefore)
        keep("tokens.poolSize", \.tokens.poolSize)
        return (effective, restartNeeded)
    }
}
