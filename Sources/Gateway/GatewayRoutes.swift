import Credentials
import Network
import TokenPool

/// One configured account: the token pool's handle (looked up once, here) and its upstream.
final class AccountRoute: Sendable {
    let name: String
    let account: TokenAccount
    let upstream: UpstreamRoute

    init(name: String, account: TokenAccount, upstream: UpstreamRoute) {
        self.name = name
        self.account = account
        self.upstream = upstream
    }
}

/// Account name (as credentials name it) to route. Immutable: a configuration reload builds a new
/// table and hands it over whole.
struct GatewayRoutes: Sendable {
    var accounts: [String: AccountRoute] = [:]
}

/// What the request path reads from the configuration, as one immutable value. Each event loop
/// holds its own reference (`LoopLocal`), read once when a request starts; a reload builds a new
/// snapshot and hands it to every loop, and requests already running finish with the one they
/// started with.
final class PipelineSnapshot: Sendable {
    struct Settings: Sendable {
        /// Bodies up to this size are replayed once after a rejected token (`limits.replayBuffer`).
        var replayBufferBytes: Int
        /// "https", or "http" on a plain loopback listener; for X-Forwarded-Proto and links.
        var externalScheme: String
    }

    let routes: GatewayRoutes
    let verifier: CredentialVerifier
    let logger: GatewayLogger
    let settings: Settings

    init(routes: GatewayRoutes, verifier: CredentialVerifier, logger: GatewayLogger, settings: Settings) {
        self.routes = routes
        self.verifier = verifier
        self.logger = logger
        self.settings = settings
    }
}
