/// Which of the two legacy login endpoints an account uses (`/tas/api/login/operator` or
/// `/tas/api/login/person`).
public enum AccountKind: String, Sendable, Hashable, CaseIterable {
    case `operator`
    case person
}

/// Identifies one legacy TOPdesk account: the upstream it lives on, its kind and its login name.
/// The token pool keeps one set of tokens per key; many client credentials may share one key.
public struct AccountKey: Sendable, Hashable, CustomStringConvertible {
    /// The configured name of the upstream (not its URL).
    public var upstream: String
    public var kind: AccountKind
    public var login: String

    public init(upstream: String, kind: AccountKind, login: String) {
        self.upstream = upstream
        self.kind = kind
        self.login = login
    }

    public var description: String { "\(upstream)/\(kind.rawValue)/\(login)" }
}
