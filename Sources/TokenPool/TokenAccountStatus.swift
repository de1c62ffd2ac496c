/// A snapshot of one account for `/readyz`, `/status` and metrics. Holds no secret.
public struct TokenAccountStatus: Sendable, Equatable {
    public enum Phase: String, Sendable {
        /// No token and no login yet.
        case idle
        /// First login (or one after expiry) in flight; leases wait.
        case loggingIn
        /// A background login in flight while current tokens serve.
        case renewing
        case ready
        /// A login failed for a passing reason; see `retryIn`.
        case backingOff
        /// A login failed for good (bad credentials, no API permission); see `lastLoginResult`.
        case unhealthy
        case closed
    }

    public enum LoginResult: Sendable, Equatable {
        case succeeded
        case failed(LoginFailure)
    }

    public var account: AccountKey
    public var phase: Phase = .idle
    /// Usable tokens held now.
    public var tokenCount = 0
    /// Age of each usable token.
    public var tokenAges: [Duration] = []
    /// Until the earliest background renewal may start (zero when due); nil without tokens.
    public var nextRenewalIn: Duration?
    /// Until the next login may be attempted when backing off or probing an unhealthy account.
    public var retryIn: Duration?
    public var lastLoginResult: LoginResult?
    public var lastLoginAgo: Duration?
    public var consecutiveFailures = 0
    /// Logins started since the pool started.
    public var loginAttempts = 0
    /// Leases waiting for the login in flight.
    public var waiters = 0
    /// Successful logins made while a usable token was held (renewals and pool top-ups), since the
    /// pool started.
    public var renewals = 0
    /// Tokens dropped because the upstream rejected them, since the pool started.
    public var invalidations = 0
    /// Of those, fresh tokens the upstream refused before they proved themselves (see
    /// `TokenPolicy.freshTokenDeathsBeforeBackoff`), since the pool started.
    public var freshTokensRefused = 0

    public init(account: AccountKey) {
        self.account = account
    }

    /// False when the account needs an operator (unhealthy) or is closed.
    public var isHealthy: Bool {
        switch phase {
        case .idle, .loggingIn, .renewing, .ready, .backingOff: return true
        case .unhealthy, .closed: return false
        }
    }
}
