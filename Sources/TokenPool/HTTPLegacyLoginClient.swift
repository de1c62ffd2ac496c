import HTTP1
import Synchronization

/// Sends one request to an upstream and delivers its status and body. The gateway's adapter over
/// `Network.HTTPClient` conforms; keeping the pool's login client on this seam lets it be built and
/// tested apart from the connection pool.
public protocol LegacyHTTPTransport: Sendable {
    /// Sends `head` without a body. Delivers the status and at most `maxBodyBytes` of body (more is
    /// a failure), or a `.network` failure. The completion may run on any thread.
    func send(_ head: HTTPRequestHead, maxBodyBytes: Int,
              completion: @escaping @Sendable (Result<(status: Int, body: [UInt8]), LoginFailure>) -> Void)
}

/// The real `LegacyLoginClient`: the legacy login and logout over HTTP (LEGACY_API.md), one
/// transport per upstream name.
public final class HTTPLegacyLoginClient: LegacyLoginClient {
    /// Where and how to reach one upstream.
    public struct Upstream: Sendable {
        /// The `Host` header value, e.g. `UpstreamURL.authority`.
        public var hostHeader: String
        /// "" or "/prefix" (no trailing slash), put in front of `/tas/api/...`.
        public var pathPrefix: String
        public var transport: any LegacyHTTPTransport

        public init(hostHeader: String, pathPrefix: String, transport: any LegacyHTTPTransport) {
            self.hostHeader = hostHeader
            self.pathPrefix = pathPrefix
            self.transport = transport
        }
    }

    /// A token is at most 512 bytes; an answer much larger is a page, not a token.
    static let maxLoginBodyBytes = 64 * 1024

    private let upstreams: Mutex<[String: Upstream]>

    /// `upstreams` is keyed by the configured upstream name (`AccountKey.upstream`).
    public init(upstreams: [String: Upstream]) {
        self.upstreams = Mutex(upstreams)
    }

    /// Replaces the upstreams after a configuration reload.
    public func reload(upstreams newUpstreams: [String: Upstream]) {
        upstreams.withLock { $0 = newUpstreams }
    }

    public func login(account: AccountKey, password: String,
                      completion: @escaping @Sendable (Result<String, LoginFailure>) -> Void) {
        guard let upstream = upstreams.withLock({ $0[account.upstream] }) else {
            completion(.failure(.network(detail: "no upstream named \(account.upstream)")))
            return
        }
        let head = LegacyLoginExchange.loginRequest(kind: account.kind, login: account.login, password: password,
                                                    hostHeader: upstream.hostHeader, pathPrefix: upstream.pathPrefix)
        upstream.transport.send(head, maxBodyBytes: Self.maxLoginBodyBytes) { result in
            switch result {
            case .success(let answer):
                completion(LegacyLoginExchange.classifyLogin(status: answer.status, body: answer.body))
            case .failure(let failure):
                completion(.failure(failure))
            }
        }
    }

    public func logout(token: LegacyToken, completion: @escaping @Sendable (Result<Void, LoginFailure>) -> Void) {
        guard let upstream = upstreams.withLock({ $0[token.account.upstream] }) else {
            completion(.failure(.network(detail: "no upstream named \(token.account.upstream)")))
            return
        }
        let head = LegacyLoginExchange.logoutRequest(token: token, hostHeader: upstream.hostHeader,
                                                     pathPrefix: upstream.pathPrefix)
        upstream.transport.send(head, maxBodyBytes: Self.maxLoginBodyBytes) { result in
            completion(result.flatMap { LegacyLoginExchange.classifyLogout(status: $0.status) })
        }
    }

    public func checkToken(_ token: LegacyToken,
                           completion: @escaping @Sendable (Result<Bool, LoginFailure>) -> Void) {
        guard let upstream = upstreams.withLock({ $0[token.account.upstream] }) else {
            completion(.failure(.network(detail: "no upstream named \(token.account.upstream)")))
            return
        }
        let head = LegacyLoginExchange.currentUserRequest(token: token, hostHeader: upstream.hostHeader,
                                                          pathPrefix: upstream.pathPrefix)
        upstream.transport.send(head, maxBodyBytes: Self.maxLoginBodyBytes) { result in
            completion(result.map { $0.status != 401 })
        }
    }
}
