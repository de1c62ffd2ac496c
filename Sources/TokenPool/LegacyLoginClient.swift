/// The two exchanges the pool needs from an upstream, behind a protocol so the policy can be tested
/// without sockets. The real implementation speaks HTTP through `Network.HTTPClient`.
///
/// Completions may be called on any thread, exactly once each.
public protocol LegacyLoginClient: Sendable {
    /// `GET /tas/api/login/{operator|person}` with Basic credentials. Succeeds with the raw token text
    /// (trimmed of surrounding whitespace; the pool checks its plausibility again).
    func login(account: AccountKey, password: String,
               completion: @escaping @Sendable (Result<String, LoginFailure>) -> Void)

    /// `GET /tas/api/logout` with the token. Best effort: the pool only counts the outcome.
    func logout(token: LegacyToken, completion: @escaping @Sendable (Result<Void, LoginFailure>) -> Void)

    /// `GET /tas/api/{operators|persons}/current` with the token: does the upstream still accept
    /// it? True for any answer but 401, false for a 401; a failure when no answer came.
    func checkToken(_ token: LegacyToken, completion: @escaping @Sendable (Result<Bool, LoginFailure>) -> Void)
}
