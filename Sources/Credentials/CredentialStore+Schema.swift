extension CredentialStore {
    /// Migrations in order; entry `n` takes the schema from version `n` to version `n + 1`.
    /// Never edit an entry once released: append a new one.
    static let migrations: [String] = [
        """
        CREATE TABLE credentials (
            id            TEXT PRIMARY KEY NOT NULL,
            client_name   TEXT NOT NULL,
            account_name  TEXT NOT NULL,
            kind          TEXT NOT NULL CHECK (kind IN ('apiKey', 'appPassword')),
            login         TEXT CHECK ((kind = 'appPassword') = (login IS NOT NULL)),
            secret_hash   BLOB NOT NULL CHECK (length(secret_hash) = 32),
            scopes        TEXT NOT NULL,          -- one METHOD:PREFIX per line; empty = everything
            created_at    INTEGER NOT NULL,       -- milliseconds since 1970, UTC
            expires_at    INTEGER,
            revoked_at    INTEGER,
            last_used_at  INTEGER
        ) STRICT;

        -- One active (not revoked) application password per login.
        CREATE UNIQUE INDEX credentials_active_login ON credentials (login)
            WHERE login IS NOT NULL AND revoked_at IS NULL;
        CREATE INDEX credentials_login ON credentials (login) WHERE login IS NOT NULL;

        -- Bumped by every change that could alter a verification, by any process, so verifiers
        -- notice revocations with one cheap read. Recording last use does not bump it.
        CREATE TABLE store_revision (
            singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
            revision  INTEGER NOT NULL
        ) STRICT;
        INSERT INTO store_revision (singleton, revision) VALUES (1, 1);

        CREATE TRIGGER credentials_inserted AFTER INSERT ON credentials
        BEGIN UPDATE store_revision SET revision = revision + 1; END;
        CREATE TRIGGER credentials_deleted AFTER DELETE ON credentials
        BEGIN UPDATE store_revision SET revision = revision + 1; END;
        CREATE TRIGGER credentials_changed AFTER UPDATE OF
            id, client_name, account_name, kind, login, secret_hash, scopes, created_at, expires_at, revoked_at
            ON credentials
        BEGIN UPDATE store_revision SET revision = revision + 1; END;
        """,
    ]

    static var latestSchemaVersion: Int {
        migrations.count
    }

    /// Brings the file to the latest schema. Safe to run on every open and from several processes
    /// at once: the version check and the migrations share one `BEGIN IMMEDIATE` transaction.
    static func migrate(_ connection: SQLiteConnection, now: Int64) throws(CredentialStoreError) {
        try connection.inWriteTransaction { () throws(CredentialStoreError) in
            try connection.execute("""
                CREATE TABLE IF NOT EXISTS schema_version (
                    version    INTEGER PRIMARY KEY NOT NULL,
                    applied_at INTEGER NOT NULL
                ) STRICT
                """)
            let current = try connection.withStatement("SELECT COALESCE(MAX(version), 0) FROM schema_version") {
                statement throws(CredentialStoreError) in
                _ = try statement.step()
                return Int(statement.int64(at: 0) ?? 0)
            }
            guard current <= latestSchemaVersion else {
                throw CredentialStoreError(
                    code: .schemaTooNew, operation: "open credential store",
                    detail: "the store has schema version \(current), this program knows up to \(latestSchemaVersion)")
            }
            for version in current..<latestSchemaVersion {
                do throws(CredentialStoreError) {
                    try connection.execute(migrations[version])
                } catch {
                    throw CredentialStoreError(code: error.code, operation: "migrate to schema version \(version + 1)",
                                               detail: error.detail, sqliteCode: error.sqliteCode)
                }
                try connection.withStatement("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)") {
                    statement throws(CredentialStoreError) in
                    try statement.bind(Int64(version + 1), at: 1)
                    try statement.bind(now, at: 2)
                    _ = try statement.step()
                }
            }
        }
    }
}
