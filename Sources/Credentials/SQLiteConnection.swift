import CSQLite

/// SQLite asks for this sentinel (a macro in C) to copy bound text and blobs before returning.
private let transientDestructor = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// One SQLite connection with a cache of prepared statements.
///
/// Not thread-safe on its own: `CredentialStore` keeps it inside a `Mutex`, and the connection is
/// opened with `SQLITE_OPEN_NOMUTEX` because that mutex already serializes every use.
final class SQLiteConnection {
    private let handle: OpaquePointer
    private let busyTimeoutMilliseconds: Int32
    private var statements: [String: OpaquePointer] = [:]

    init(path: String, busyTimeoutMilliseconds: Int32) throws(CredentialStoreError) {
        var opened: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        let result = sqlite3_open_v2(path, &opened, flags, nil)
        guard result == SQLITE_OK, let opened else {
            let message = opened.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(result))
            if let opened { sqlite3_close_v2(opened) }
            throw .sqlite(result, "sqlite3_open_v2", message)
        }
        handle = opened
        self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
        sqlite3_extended_result_codes(opened, 1)
        sqlite3_busy_timeout(opened, busyTimeoutMilliseconds)
    }

    deinit {
        for statement in statements.values {
            sqlite3_finalize(statement)
        }
        sqlite3_close_v2(handle)
    }

    /// Runs SQL text that binds nothing and whose rows (if any) are not needed.
    func execute(_ sql: String) throws(CredentialStoreError) {
        var message: UnsafeMutablePointer<CChar>?
        let result = sqlite3_exec(handle, sql, nil, nil, &message)
        guard result == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? lastErrorMessage
            sqlite3_free(message)
            throw .sqlite(result, "sqlite3_exec", text)
        }
    }

    /// Runs `body` with the prepared statement for `sql`, reset and unbound afterwards.
    func withStatement<Result>(
        _ sql: String, _ body: (SQLiteStatement) throws(CredentialStoreError) -> Result
    ) throws(CredentialStoreError) -> Result {
        let statement = try prepared(sql)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        return try body(SQLiteStatement(handle: statement, connection: handle))
    }

    /// Runs `body` inside `BEGIN IMMEDIATE ... COMMIT`, rolling back when it throws.
    func inWriteTransaction<Result>(
        _ body: () throws(CredentialStoreError) -> Result
    ) throws(CredentialStoreError) -> Result {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Runs `body` with a different busy timeout (0 = fail at once with SQLITE_BUSY), then
    /// restores `busyTimeoutMilliseconds`.
    func withBusyTimeout<Result>(
        _ milliseconds: Int32, _ body: () throws(CredentialStoreError) -> Result
    ) throws(CredentialStoreError) -> Result {
        sqlite3_busy_timeout(handle, milliseconds)
        defer { sqlite3_busy_timeout(handle, busyTimeoutMilliseconds) }
        return try body()
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE on this connection.
    var changes: Int {
        Int(sqlite3_changes(handle))
    }

    private var lastErrorMessage: String {
        String(cString: sqlite3_errmsg(handle))
    }

    private func prepared(_ sql: String) throws(CredentialStoreError) -> OpaquePointer {
        if let statement = statements[sql] {
            return statement
        }
        var statement: OpaquePointer?
        let result = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard result == SQLITE_OK, let statement else {
            throw .sqlite(result, "sqlite3_prepare_v3", lastErrorMessage)
        }
        statements[sql] = statement
        return statement
    }
}

/// A prepared statement borrowed from `SQLiteConnection.withStatement`; valid only inside it.
struct SQLiteStatement {
    fileprivate let handle: OpaquePointer
    fileprivate let connection: OpaquePointer

    func bind(_ value: String?, at index: Int32) throws(CredentialStoreError) {
        let result: Int32
        if let value {
            result = sqlite3_bind_text(handle, index, value, -1, transientDestructor)
        } else {
            result = sqlite3_bind_null(handle, index)
        }
        try check(result, "sqlite3_bind_text")
    }

    func bind(_ value: Int64?, at index: Int32) throws(CredentialStoreError) {
        let result: Int32
        if let value {
            result = sqlite3_bind_int64(handle, index, value)
        } else {
            result = sqlite3_bind_null(handle, index)
        }
        try check(result, "sqlite3_bind_int64")
    }

    func bind(_ bytes: [UInt8], at index: Int32) throws(CredentialStoreError) {
        let result = bytes.withUnsafeBytes { buffer in
            sqlite3_bind_blob(handle, index, buffer.baseAddress, Int32(buffer.count), transientDestructor)
        }
        try check(result, "sqlite3_bind_blob")
    }

    /// Advances to the next row: true when a row is available, false when the statement is done.
    func step() throws(CredentialStoreError) -> Bool {
        let result = sqlite3_step(handle)
        switch result {
        case SQLITE_ROW:
            return true
        case SQLITE_DONE:
            return false
        default:
            throw .sqlite(result, "sqlite3_step", String(cString: sqlite3_errmsg(connection)))
        }
    }

    func text(at column: Int32) -> String? {
        guard let pointer = sqlite3_column_text(handle, column) else {
            return nil
        }
        return String(cString: pointer)
    }

    func int64(at column: Int32) -> Int64? {
        guard sqlite3_column_type(handle, column) != SQLITE_NULL else {
            return nil
        }
        return sqlite3_column_int64(handle, column)
    }

    func blob(at column: Int32) -> [UInt8]? {
        guard sqlite3_column_type(handle, column) != SQLITE_NULL else {
            return nil
        }
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let pointer = sqlite3_column_blob(handle, column) else {
            return []
        }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    private func check(_ result: Int32, _ operation: String) throws(CredentialStoreError) {
        guard result == SQLITE_OK else {
            throw .sqlite(result, operation, String(cString: sqlite3_errmsg(connection)))
        }
    }
}
