/// Why a login to the legacy API did not yield a token. Classified so the pool can tell failures
/// that another attempt cannot fix (and that might lock the TOPdesk account) from passing trouble.
public enum LoginFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// 401 from the login endpoint: wrong login or password.
    case badCredentials
    /// 403 from the login endpoint, typically "User does not have permission to access the REST
    /// realm": the account is not in a permission group allowing the API.
    case missingAPIPermission
    /// Any other status (5xx, 404 from a wrong base path, 429, a redirect ...).
    case upstreamStatus(Int)
    /// 200 whose body is not a plausible token (an HTML page from a wrong base path, say).
    case implausibleToken(reason: String)
    /// The exchange failed below HTTP: connect, TLS, timeout, connection closed.
    case network(detail: String)
    /// Logins succeed, but the upstream refused this many fresh tokens in a row right after
    /// issuing them (`TokenPolicy.freshTokenDeathsBeforeBackoff`).
    case tokensRefusedAtOnce(count: Int)

    /// True for failures that repeating the same login cannot fix: the account is marked unhealthy
    /// and no further attempts are made until its configuration is reloaded (or a rare probe).
    public var isPermanent: Bool {
        switch self {
        case .badCredentials, .missingAPIPermission: return true
        case .upstreamStatus, .implausibleToken, .network, .tokensRefusedAtOnce: return false
        }
    }

    public var description: String {
        switch self {
        case .badCredentials: return "the upstream rejected the account's login or password (401)"
        case .missingAPIPermission: return "the account has no permission to use the API (403)"
        case .upstreamStatus(let status): return "the upstream answered the login with status \(status)"
        case .implausibleToken(let reason): return "the login answer is not a token: \(reason)"
        case .network(let detail): return "the login did not reach the upstream: \(detail)"
        case .tokensRefusedAtOnce(let count):
            return "the upstream refused \(count) fresh tokens in a row right after issuing them "
                + "(do its nodes share sessions? is its token lifetime near zero?)"
        }
    }
}

/// Why a lease could not hand out a token. Each case says what the gateway should answer.
public enum TokenLeaseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The account's last login failed for good (bad credentials, no API permission); no login is
    /// attempted until the configuration is reloaded. Answer 502.
    case accountUnhealthy(LoginFailure)
    /// The last login failed for a passing reason and the account backs off; another attempt is
    /// made on the first lease after `retryAfter`. Answer 502 (503 with Retry-After also fits).
    case loginFailing(LoginFailure, retryAfter: Duration)
    /// No such account in the pool (removed by a reload). Answer 502.
    case unknownAccount(AccountKey)
    /// The pool is shutting down. Answer 503.
    case shuttingDown

    public var description: String {
        switch self {
        case .accountUnhealthy(let failure): return "the account is unhealthy: \(failure)"
        case .loginFailing(let failure, let retryAfter):
            return "login failing (\(failure)); next attempt in \(retryAfter)"
        case .unknownAccount(let key): return "no account \(key) in the token pool"
        case .shuttingDown: return "the token pool is shutting down"
        }
    }
}
