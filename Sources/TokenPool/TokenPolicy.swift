/// How the pool obtains, spreads, renews and gives up on tokens. One policy for every account.
public struct TokenPolicy: Sendable, Equatable {
    /// How long a token lives, counted from the moment its login request was sent (the upstream
    /// never says; LEGACY_API.md gives 8 hours). Default 8h.
    public var lifetime: Duration = .seconds(8 * 3600)
    /// How long before expiry a background renewal starts while the current token keeps serving.
    /// Default 5m.
    public var renewBefore: Duration = .seconds(300)
    /// Renewal starts up to this fraction of `renewBefore` earlier still, drawn per token, so that
    /// accounts logged in together do not all renew together. Default 0.2.
    public var renewJitter: Double = 0.2
    /// A token is not handed out during the last stretch of its life, covering clock drift against
    /// the upstream and the time a request takes to get there. Default 10s.
    public var expirySafetyMargin: Duration = .seconds(10)
    /// Tokens held per account; leases rotate over them. Default 1.
    public var poolSize: Int = 1
    /// First back-off after a passing login failure; doubled per consecutive failure. Default 1s.
    public var backoffBase: Duration = .seconds(1)
    /// Longest back-off. Default 60s.
    public var backoffCap: Duration = .seconds(60)
    /// A back-off is shortened by up to this fraction, drawn per failure. Default 0.2.
    public var backoffJitter: Double = 0.2
    /// After a 401 on login, another attempt is made only after this long, or never when nil (until
    /// the configuration is reloaded). Nil by default: repeating a wrong password is how TOPdesk
    /// accounts get locked. Default nil.
    public var badCredentialsProbeInterval: Duration? = nil
    /// After a 403 (no API permission) a probe login is made this often: permissions may be granted
    /// upstream (they take effect at the upstream's next restart) and the password was right, so a
    /// probe cannot count toward a lockout. Nil means never. Default 5m.
    public var missingPermissionProbeInterval: Duration? = .seconds(300)
    /// A still-valid token replaced by a renewal is logged out this long after it stopped being
    /// handed out, when requests that carry it have finished. Nil keeps it until it expires.
    /// Default 2m.
    public var retiredTokenLogoutDelay: Duration? = .seconds(120)
    /// Logins running at once against one upstream; more wait their turn. Matters after an
    /// upstream restart, when every account logs in again. Default 4.
    public var maxConcurrentLoginsPerUpstream: Int = 4
    /// This many different accounts of one upstream having their current token rejected within
    /// `restartBurstWindow` means the upstream restarted: every token of that upstream is dropped
    /// at once instead of one 401 at a time. Default 3.
    public var restartBurstAccounts: Int = 3
    /// Default 10s.
    public var restartBurstWindow: Duration = .seconds(10)
    /// Once a 401 has cost an account a token, a token issued after that is not dropped for another
    /// 401 within this long: a fresh token refused as well means the upstream refuses the request,
    /// not the token (the pool then asks the upstream, with the token, who it belongs to; only a
    /// 401 to that drops it). This bounds the logins that 401s on some paths can cause to one per
    /// interval per account, whatever clients send. Default 10s.
    public var freshTokenTrust: Duration = .seconds(10)
    /// Fresh tokens the upstream confirmed dead in a row without having served one request (each
    /// within `freshTokenTrust` of its login, each within twice that of the one before) after
    /// which the account backs off as after failed logins: an install that refuses every token at
    /// once (nodes behind a balancer that share no sessions, a token lifetime of nothing) must not
    /// get a login per request. A token that served and lived `provenTokenLife` before it died
    /// (an upstream restart) resets the count. Default 3.
    public var freshTokenDeathsBeforeBackoff: Int = 3
    /// How long a token that answered requests must have lived for its death not to count toward
    /// `freshTokenDeathsBeforeBackoff`: one that dies within this of its login, even after serving
    /// a request or two, is one the install refuses all but at once. Default 100ms.
    public var provenTokenLife: Duration = .milliseconds(100)

    public init() {}

    /// The back-off after the `failures`-th consecutive passing failure (1-based), given a jitter
    /// fraction in 0..<1: base * 2^(failures-1), capped, then shortened by up to `backoffJitter`.
    public func backoff(afterFailures failures: Int, jitterFraction: Double) -> Duration {
        let exponent = min(max(failures - 1, 0), 62)
        let base = backoffBase.nanosecondsClamped
        let cap = backoffCap.nanosecondsClamped
        let (raw, overflow) = base.multipliedReportingOverflow(by: UInt64(1) << UInt64(exponent))
        let capped = overflow ? cap : min(raw, cap)
        let shortened = Double(capped) * (1 - backoffJitter * min(max(jitterFraction, 0), 1))
        return .nanosecondsClamped(UInt64(shortened))
    }
}
