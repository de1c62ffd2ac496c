import Foundation

extension CredentialStore {
    /// Reads one row of `columns`. Refuses rows it cannot read faithfully (rather than, say,
    /// treating unreadable scopes as "no scopes", which would mean "everything allowed").
    static func decodeRow(_ statement: SQLiteStatement) throws(CredentialStoreError) -> StoredCredential {
        let id = statement.text(at: 0) ?? ""
        func invalid(_ detail: String) -> CredentialStoreError {
            CredentialStoreError(code: .invalidRow, operation: "read credential \(id)", detail: detail)
        }
        guard !id.isEmpty, let clientName = statement.text(at: 1), let accountName = statement.text(at: 2),
              let kindName = statement.text(at: 3), let scopeText = statement.text(at: 6),
              let createdAt = statement.int64(at: 7) else {
            throw invalid("a required column is empty")
        }
        let kind: CredentialKind
        switch (kindName, statement.text(at: 4)) {
        case ("apiKey", nil):
            kind = .apiKey
        case ("appPassword", let login?):
            kind = .appPassword(login: login)
        default:
            throw invalid("unknown kind '\(kindName)' or a login that does not fit it")
        }
        guard let hashBytes = statement.blob(at: 5), let secretHash = SecretDigest(bytes: hashBytes) else {
            throw invalid("the secret hash is not 32 bytes")
        }
        var scopes: [Scope] = []
        for line in scopeText.split(separator: "\n", omittingEmptySubsequences: true) {
            do {
                scopes.append(try Scope(parsing: String(line)))
            } catch {
                throw invalid(error.description)
            }
        }
        let credential = Credential(
            id: id, clientName: clientName, accountName: accountName, kind: kind, scopes: scopes,
            createdAt: Date(storeMilliseconds: createdAt),
            expiresAt: statement.int64(at: 8).map(Date.init(storeMilliseconds:)),
            revokedAt: statement.int64(at: 9).map(Date.init(storeMilliseconds:)),
            lastUsedAt: statement.int64(at: 10).map(Date.init(storeMilliseconds:)))
        return StoredCredential(credential: credential, secretHash: secretHash)
    }

    /// Longest client or account name accepted, in UTF-8 bytes.
    static let maximumNameLength = 200
    /// Longest application password login accepted, in UTF-8 bytes.
    static let maximumLoginLength = 128

    static func validate(_ request: CredentialRequest) throws(CredentialStoreError) {
        try validateName(request.clientName, field: "client")
        try validateName(request.accountName, field: "account")
        if case .appPassword(let login) = request.kind {
            try validateLogin(login)
        }
    }

    private static func validateName(_ name: String, field: String) throws(CredentialStoreError) {
        guard !name.isEmpty else {
            throw .invalidInput(field, "must not be empty")
        }
        guard name.utf8.count <= maximumNameLength else {
            throw .invalidInput(field, "must be at most \(maximumNameLength) bytes")
        }
        guard name.trimmingCharacters(in: .whitespaces) == name else {
            throw .invalidInput(field, "must not start or end with white space")
        }
        guard !name.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) }) else {
            throw .invalidInput(field, "must not contain control characters")
        }
    }

    /// Logins travel in HTTP Basic, where the first `:` ends the login (RFC 7617, section 2).
    static func validateLogin(_ login: String) throws(CredentialStoreError) {
        guard !login.isEmpty else {
            throw .invalidInput("login", "must not be empty")
        }
        guard login.utf8.count <= maximumLoginLength else {
            throw .invalidInput("login", "must be at most \(maximumLoginLength) bytes")
        }
        guard !login.contains(":") else {
            throw .invalidInput("login", "must not contain ':' (HTTP Basic ends the login at the first colon)")
        }
        let isForbidden = { (scalar: Unicode.Scalar) in
            scalar.properties.isWhitespace || CharacterSet.controlCharacters.contains(scalar)
        }
        guard !login.unicodeScalars.contains(where: isForbidden) else {
            throw .invalidInput("login", "must not contain white space or control characters")
        }
    }
}

extension Date {
    /// The store keeps times as whole milliseconds since 1970 (UTC).
    var storeMilliseconds: Int64 {
        Int64((timeIntervalSince1970 * 1000).rounded(.down))
    }

    init(storeMilliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(storeMilliseconds) / 1000)
    }

    /// This date as the store will give it back (truncated to milliseconds).
    var storeDate: Date {
        Date(storeMilliseconds: storeMilliseconds)
    }
}
