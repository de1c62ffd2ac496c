import Network
import TokenPool

/// One configured upstream as the request path uses it: where paths and links point, and the
/// keep-alive client (one pool per event loop) that carries requests and logins there.
final class UpstreamRoute: Sendable {
    let name: String
    let url: UpstreamURL
    let client: HTTPClient

    init(name: String, url: UpstreamURL, client: HTTPClient) {
        self.name = name
        self.url = url
        self.client = client
    }
}

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
