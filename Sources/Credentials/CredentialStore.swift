import Foundation
import Synchronization

/// The SQLite file of client credentials.
///
/// The file is opened in WAL mode (readers never wait for the writer, so the gateway keeps verifying
/// while the CLI revokes) with `synchronous = FULL` (a revocation survives a power cut) and a busy
/// timeout. The schema is created or migrated on open.
///
/// One connection per store, behind a `Mutex`: every call is safe from any thread. The gateway
/// reaches the store only through `CredentialVerifier`, on cache misses and once-a-second revision
/// checks, so the lock is rarely contended. Another process (the `credentials` command) opens its
/// own store on the same file.
public final class CredentialStore: Sendable {
    public let path: String
    private let connection: Mutex<SQLiteConnection>

    private static let columns = """
        id, client_name, account_name, kind, login, secret_hash, scopes, created_at, expires_at, revoked_at, \
        last_used_at
        """

    /// Opens (creating when missing, mode 0600) and migrates the store at `path`.
    public init(path: String, busyTimeout: Duration = .seconds(5), now: Date = Date()) throws(CredentialStoreError) {
        let existed = FileManager.default.fileExists(atPath: path)
        let connection = try SQLiteConnection(path: path,
                                              busyTimeoutMilliseconds: Int32(clamping: busyTimeout.milliseconds))
        if !existed {
            // The file holds only hashes, but who holds what access is still nobody else's business.
            _ = chmod(path, 0o600)
        }
        try Self.configure(connection)
        try Self.migrate(connection, now: now.storeMilliseconds)
        self.path = path
        self.connection = Mutex(connection)
    }

    private static func configure(_ connection: SQLiteConnection) throws(CredentialStoreError) {
        let journalMode = try connection.withStatement("PRAGMA journal_mode = WAL") {
            statement throws(CredentialStoreError) in
            _ = try statement.step()
            return statement.text(at: 0) ?? ""
        }
        guard journalMode.lowercased() == "wal" else {
            throw CredentialStoreError(code: .sqlite, operation: "PRAGMA journal_mode = WAL",
                                       detail: "the file system kept journal mode '\(journalMode)'")
        }
        try connection.execute("PRAGMA synchronous = FULL")
    }

    // MARK: Managing credentials

    /// Issues a new credential. The returned secret exists nowhere else; only its hash is stored.
    ///
    /// Throws `.invalidInput` (naming the field) for empty or malformed names and logins, and
    /// `.loginInUse` when an application password login is held by a credential not yet revoked
    /// (even an expired one: revoke it first, so the login never silently changes hands).
    public func create(
        _ request: CredentialRequest, now: Date = Date()
    ) throws(CredentialStoreError) -> IssuedCredential {
        try Self.validate(request)
        var attempts = 0
        while true {
            attempts += 1
            let id = try SecretGenerator.credentialID()
            let secret: String
            switch request.kind {
            case .apiKey:
                secret = APIKeyFormat.compose(id: id, secret: try SecretGenerator.apiKeySecret())
            case .appPassword:
                secret = try SecretGenerator.appPassword()
            }
            let storedSecret = APIKeyFormat.split(secret)?.secret ?? Substring(secret)
            let hash = SecretHashing.storedHash(credentialID: id, secret: storedSecret)
            let credential = Credential(
                id: id, clientName: request.clientName, accountName: request.accountName, kind: request.kind,
                scopes: request.scopes, createdAt: now.storeDate, expiresAt: request.expiresAt?.storeDate,
                revokedAt: nil, lastUsedAt: nil)
            do {
                try insert(credential, hash: hash)
                return IssuedCredential(credential: credential, secret: secret)
            } catch let error where error.code == .sqlite && error.isUniquenessViolation && attempts < 3 {
                // A 62-bit id collided (or a login raced us; the retry then reports it): try again.
                continue
            }
        }
    }

    private func insert(_ credential: Credential, hash: SecretDigest) throws(CredentialStoreError) {
        try connection.withLock { connection throws(CredentialStoreError) in
            try connection.inWriteTransaction { () throws(CredentialStoreError) in
                if let login = credential.login, let holder = try Self.activeHolder(ofLogin: login, in: connection) {
                    throw CredentialStoreError(
                        code: .loginInUse, operation: "create credential",
                        detail: "login '\(login)' is already used by credential \(holder); revoke it first")
                }
                let sql = "INSERT INTO credentials (\(Self.columns)) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
                try connection.withStatement(sql) { statement throws(CredentialStoreError) in
                    try statement.bind(credential.id, at: 1)
                    try statement.bind(credential.clientName, at: 2)
                    try statement.bind(credential.accountName, at: 3)
                    try statement.bind(credential.kind.name, at: 4)
                    try statement.bind(credential.login, at: 5)
                    try statement.bind(hash.bytes, at: 6)
                    try statement.bind(credential.scopes.map(\.description).joined(separator: "\n"), at: 7)
                    try statement.bind(credential.createdAt.storeMilliseconds, at: 8)
                    try statement.bind(credential.expiresAt?.storeMilliseconds, at: 9)
                    try statement.bind(nil as Int64?, at: 10)
                    try statement.bind(nil as Int64?, at: 11)
                    _ = try statement.step()
                }
            }
        }
    }

    private static func activeHolder(
        ofLogin login: String, in connection: SQLiteConnection
    ) throws(CredentialStoreError) -> String? {
        try connection.withStatement("SELECT id FROM credentials WHERE login = ? AND revoked_at IS NULL") {
            statement throws(CredentialStoreError) in
            try statement.bind(login, at: 1)
            return try statement.step() ? statement.text(at: 0) : nil
        }
    }

    /// Every credential, oldest first, revoked and expired ones included. Never any secret.
    public func list() throws(CredentialStoreError) -> [Credential] {
        try connection.withLock { connection throws(CredentialStoreError) in
            try connection.withStatement("SELECT \(Self.columns) FROM credentials ORDER BY created_at, id") {
                statement throws(CredentialStoreError) in
                var credentials: [Credential] = []
                while try statement.step() {
                    credentials.append(try Self.decodeRow(statement).credential)
                }
                return credentials
            }
        }
    }

    public func credential(id: String) throws(CredentialStoreError) -> Credential? {
        try storedCredential(id: id).credential?.credential
    }

    public enum RevocationOutcome: Sendable, Hashable {
        case revoked(Credential)
        case alreadyRevoked(Credential)
        case notFound
    }

    /// Revokes credential `id` at `now`. Idempotent: a second revocation keeps the first time.
    /// Verifiers in every process stop accepting it at their next revision check (within a second).
    public func revoke(id: String, now: Date = Date()) throws(CredentialStoreError) -> RevocationOutcome {
        let changed = try connection.withLock { connection throws(CredentialStoreError) in
            try connection.withStatement("UPDATE credentials SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL") {
                statement throws(CredentialStoreError) in
                try statement.bind(now.storeMilliseconds, at: 1)
                try statement.bind(id, at: 2)
                _ = try statement.step()
            }
            return connection.changes
        }
        guard let credential = try credential(id: id) else {
            return .notFound
        }
        return changed == 1 ? .revoked(credential) : .alreadyRevoked(credential)
    }

    /// A number that grows with every change that could alter a verification (create, revoke,
    /// edit, delete), by this process or any other. Recording last use does not change it.
    public func revision() throws(CredentialStoreError) -> Int64 {
        try connection.withLock { connection throws(CredentialStoreError) in
            try Self.readRevision(connection)
        }
    }

    // MARK: Reads for the verifier

    /// A credential row with its secret hash, as the verifier needs it.
    struct StoredCredential: Sendable {
        let credential: Credential
        let secretHash: SecretDigest
    }

    /// The row for `id` and the revision read just before it: the row is at least that fresh.
    func storedCredential(id: String) throws(CredentialStoreError) -> (credential: StoredCredential?, revision: Int64) {
        try connection.withLock { connection throws(CredentialStoreError) in
            let revision = try Self.readRevision(connection)
            let row = try connection.withStatement("SELECT \(Self.columns) FROM credentials WHERE id = ?") {
                statement throws(CredentialStoreError) in
                try statement.bind(id, at: 1)
                return try statement.step() ? try Self.decodeRow(statement) : nil
            }
            return (row, revision)
        }
    }

    /// Rows holding `login` (the active one first, then the newest), and the revision read first.
    func storedCredentials(
        login: String
    ) throws(CredentialStoreError) -> (credentials: [StoredCredential], revision: Int64) {
        try connection.withLock { connection throws(CredentialStoreError) in
            let revision = try Self.readRevision(connection)
            let sql = """
                SELECT \(Self.columns) FROM credentials WHERE login = ?
                ORDER BY revoked_at IS NOT NULL, created_at DESC LIMIT 16
                """
            let rows = try connection.withStatement(sql) { statement throws(CredentialStoreError) in
                try statement.bind(login, at: 1)
                var rows: [StoredCredential] = []
                while try statement.step() {
                    rows.append(try Self.decodeRow(statement))
                }
                return rows
            }
            return (rows, revision)
        }
    }

    /// Notes that credential `id` was verified at `now`. Does not change the revision.
    ///
    /// Called on the gateway's request path, so it never waits for another writer (the CLI): when
    /// the file is busy it fails at once with SQLITE_BUSY and the caller drops the note.
    func recordUse(id: String, now: Date) throws(CredentialStoreError) {
        try connection.withLock { connection throws(CredentialStoreError) in
            try connection.withBusyTimeout(0) { () throws(CredentialStoreError) in
                try connection.withStatement("UPDATE credentials SET last_used_at = ? WHERE id = ?") {
                    statement throws(CredentialStoreError) in
                    try statement.bind(now.storeMilliseconds, at: 1)
                    try statement.bind(id, at: 2)
                    _ = try statement.step()
                }
            }
        }
    }

    private static func readRevision(_ connection: SQLiteConnection) throws(CredentialStoreError) -> Int64 {
        try connection.withStatement("SELECT revision FROM store_revision WHERE singleton = 1") {
            statement throws(CredentialStoreError) in
            guard try statement.step(), let revision = statement.int64(at: 0) else {
                throw CredentialStoreError(code: .invalidRow, operation: "read store revision",
                                           detail: "the store_revision row is missing")
            }
            return revision
        }
    }
}
