import Foundation

/// A client credential as the store keeps it, without its secret.
public struct Credential: Sendable, Hashable {
    /// Short random id (12 lowercase letters or digits), URL-safe; part of every API key.
    public let id: String
    /// Who holds the credential (a person, a team, an integration), for lists and access logs.
    public let clientName: String
    /// The legacy TOPdesk account this credential acts as: an account name of the gateway config.
    public let accountName: String
    public let kind: CredentialKind
    /// What the credential may do; empty means everything (see `authorize(method:target:)`).
    public let scopes: [Scope]
    public let createdAt: Date
    /// Nil when the credential never expires.
    public let expiresAt: Date?
    /// Set once the credential is revoked; a revoked credential never becomes valid again.
    public let revokedAt: Date?
    /// When the store last verified the credential's secret. The verifier records this on cache
    /// misses only, so it lags real use by at most the positive cache lifetime.
    public let lastUsedAt: Date?

    public init(
        id: String, clientName: String, accountName: String, kind: CredentialKind, scopes: [Scope],
        createdAt: Date, expiresAt: Date?, revokedAt: Date?, lastUsedAt: Date?
    ) {
        self.id = id
        self.clientName = clientName
        self.accountName = accountName
        self.kind = kind
        self.scopes = scopes
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.lastUsedAt = lastUsedAt
    }

    /// The HTTP Basic login of an application password; nil for an API key.
    public var login: String? {
        switch kind {
        case .apiKey:
            return nil
        case .appPassword(let login):
            return login
        }
    }

    /// Revocation wins over expiry; a credential expires at the instant `expiresAt`.
    public func status(at now: Date) -> CredentialStatus {
        if revokedAt != nil {
            return .revoked
        }
        if let expiresAt, now >= expiresAt {
            return .expired
        }
        return .active
    }
}

public enum CredentialKind: Sendable, Hashable {
    /// Presented as `Authorization: Bearer <key>` or `X-API-Key: <key>`.
    case apiKey
    /// Presented as HTTP Basic `login:password`.
    case appPassword(login: String)

    /// The name used in the store, in `--json` output and in tables: `apiKey` or `appPassword`.
    public var name: String {
        switch self {
        case .apiKey:
            return "apiKey"
        case .appPassword:
            return "appPassword"
        }
    }
}

public enum CredentialStatus: String, Sendable, Hashable {
    case active, expired, revoked
}

/// What `CredentialStore.create` needs to issue a credential.
public struct CredentialRequest: Sendable, Hashable {
    public var clientName: String
    public var accountName: String
    public var kind: CredentialKind
    public var scopes: [Scope]
    public var expiresAt: Date?

    public init(clientName: String, accountName: String, kind: CredentialKind, scopes: [Scope] = [],
                expiresAt: Date? = nil) {
        self.clientName = clientName
        self.accountName = accountName
        self.kind = kind
        self.scopes = scopes
        self.expiresAt = expiresAt
    }
}

/// A credential just created, with the secret that exists nowhere else: hand it to the client once.
///
/// Its descriptions and mirror redact the secret, so printing or dumping it cannot leak it.
public struct IssuedCredential: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let credential: Credential
    /// The full API key (`tbk_<id>_<secret>`) or the application password.
    public let secret: String

    public var description: String {
        "IssuedCredential(id: \(credential.id), kind: \(credential.kind.name), secret: <redacted>)"
    }

    public var debugDescription: String {
        description
    }

    public var customMirror: Mirror {
        Mirror(self, children: ["credential": credential, "secret": "<redacted>"])
    }
}
