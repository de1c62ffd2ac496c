import CSQLite

/// Why the credential store refused or failed an operation.
///
/// Messages never contain a secret or a secret hash: only ids, logins, names and SQLite's own text.
public struct CredentialStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// A SQLite call failed; `sqliteCode` holds its extended result code.
        case sqlite
        /// The file was migrated by a newer TokenBridge than this one.
        case schemaTooNew
        /// A row could not be read back (edited by hand, or written by a buggy tool).
        case invalidRow
        /// A request to create a credential broke a rule (empty name, bad login, ...).
        case invalidInput
        /// An application password login is already held by a credential that is not revoked.
        case loginInUse
        /// The random generator or the digest failed (OpenSSL error stack in `detail`).
        case cryptography
    }

    public let code: Code
    /// The failing call or the step that failed, e.g. `sqlite3_open_v2` or `migrate to version 1`.
    public let operation: String
    /// A human sentence; for SQLite failures, the library's message.
    public let detail: String
    /// The extended SQLite result code, when the failure came from SQLite.
    public let sqliteCode: Int32?

    public init(code: Code, operation: String, detail: String, sqliteCode: Int32? = nil) {
        self.code = code
        self.operation = operation
        self.detail = detail
        self.sqliteCode = sqliteCode
    }

    public var description: String {
        if let sqliteCode {
            return "\(operation) failed: \(detail) (SQLite code \(sqliteCode))"
        }
        return "\(operation): \(detail)"
    }

    static func sqlite(_ code: Int32, _ operation: String, _ detail: String) -> CredentialStoreError {
        CredentialStoreError(code: .sqlite, operation: operation, detail: detail, sqliteCode: code)
    }

    static func invalidInput(_ field: String, _ detail: String) -> CredentialStoreError {
        CredentialStoreError(code: .invalidInput, operation: field, detail: detail)
    }

    /// True when SQLite reported a violated PRIMARY KEY or UNIQUE constraint. The extended codes
    /// are C macro expressions Swift cannot import: `SQLITE_CONSTRAINT | (6 << 8)` and `| (8 << 8)`.
    var isUniquenessViolation: Bool {
        sqliteCode == SQLITE_CONSTRAINT | (6 << 8) || sqliteCode == SQLITE_CONSTRAINT | (8 << 8)
    }
}
