import CSQLite
import Foundation
import Testing
@testable import Credentials

@Suite("Credential store")
struct CredentialStoreTests {
    @Test("A created credential is listed with its fields and revoking it records the time")
    func createListRevokeRoundTrip() throws {
        let directory = try TemporaryDirectory()
        let clock = ManualClock()
        let store = try CredentialStore(path: directory.path("store.sqlite"))
        let expiry = clock.now.addingTimeInterval(86_400)
        let issued = try store.create(try apiKeyRequest(scopes: ["GET:/tas/api/", "*:/tas/api/incidents"],
                                                        expiresAt: expiry), now: clock.now)

        let listed = try store.list()
        #expect(listed.count == 1)
        let credential = try #require(listed.first)
        #expect(credential.id == issued.credential.id)
        #expect(credential.clientName == "reporting")
        #expect(credential.accountName == "operator-api")
        #expect(credential.kind == .apiKey)
        #expect(credential.scopes.map(\.description) == ["GET:/tas/api/", "*:/tas/api/incidents"])
        #expect(credential.createdAt == clock.now)
        #expect(credential.expiresAt == expiry)
        #expect(credential.revokedAt == nil)
        #expect(credential.status(at: clock.now) == .active)

        clock.advance(seconds: 60)
        let outcome = try store.revoke(id: issued.credential.id, now: clock.now)
        guard case .revoked(let revoked) = outcome else {
            Issue.record("expected .revoked, got \(outcome)")
            return
        }
        #expect(revoked.revokedAt == clock.now)
        #expect(try store.list().first?.status(at: clock.now) == .revoked)

        clock.advance(seconds: 60)
        guard case .alreadyRevoked(let again) = try store.revoke(id: issued.credential.id, now: clock.now) else {
            Issue.record("a second revocation should report alreadyRevoked")
            return
        }
        #expect(again.revokedAt == clock.now.addingTimeInterval(-60))
        #expect(try store.revoke(id: "nosuchid0000") == .notFound)
    }

    @Test("API keys and application passwords have the documented shapes")
    func secretShapes() throws {
        let directory = try TemporaryDirectory()
        let store = try CredentialStore(path: directory.path("store.sqlite"))
        let key = try store.create(try apiKeyRequest())
        #expect(key.secret.hasPrefix("tbk_" + key.credential.id + "_"))
        #expect(APIKeyFormat.isWellFormed(key.secret))
        #expect(key.credential.id.count == 12)
        #expect(key.credential.id.allSatisfy { $0.isLowercase || $0.isNumber })

        let password = try store.create(appPasswordRequest(login: "alice"))
        #expect(AppPasswordFormat.isWellFormed(password.secret))
        let groups = password.secret.split(separator: "-")
        #expect(groups.count == 5 && groups.allSatisfy { $0.count == 5 })
        // 25 characters of 36 symbols each.
        #expect(25 * log2(36.0) >= 120)
    }

    @Test("No secret appears in clear anywhere in the database files")
    func secretsAreNotStoredInClear() throws {
        let directory = try TemporaryDirectory()
        var secrets: [String] = []
        var ids: [String] = []
        do {
            let store = try CredentialStore(path: directory.path("store.sqlite"))
            for index in 0..<5 {
                let key = try store.create(try apiKeyRequest())
                let password = try store.create(appPasswordRequest(login: "user\(index)"))
                secrets += [key.secret, String(APIKeyFormat.split(key.secret)!.secret), password.secret]
                ids += [key.credential.id, password.credential.id]
            }
        }
        let bytes = try directory.storeBytes("store.sqlite")
        // The search works: ids are stored in clear, so it finds them.
        for id in ids {
            #expect(bytes.contains(subsequence: Array(id.utf8)))
        }
        for secret in secrets {
            #expect(!bytes.contains(subsequence: Array(secret.utf8)))
        }
    }

    @Test("An issued credential never prints its secret")
    func issuedCredentialRedactsSecret() throws {
        let directory = try TemporaryDirectory()
        let store = try CredentialStore(path: directory.path("store.sqlite"))
        let issued = try store.create(try apiKeyRequest())
        var dumped = ""
        dump(issued, to: &dumped)
        for text in ["\(issued)", String(reflecting: issued), dumped] {
            #expect(!text.contains(issued.secret))
            #expect(text.contains(issued.credential.id))
        }
    }

    @Test("A login has one active application password; revoking frees it")
    func loginUniqueness() throws {
        let directory = try TemporaryDirectory()
        let store = try CredentialStore(path: directory.path("store.sqlite"))
        let first = try store.create(appPasswordRequest(login: "alice"))
        #expect(throws: CredentialStoreError.self) {
            try store.create(appPasswordRequest(login: "alice"))
        }
        do {
            _ = try store.create(appPasswordRequest(login: "alice"))
        } catch {
            #expect(error.code == .loginInUse)
            #expect(error.description.contains(first.credential.id))
        }
        _ = try store.create(appPasswordRequest(login: "bob"))
        _ = try store.revoke(id: first.credential.id)
        let second = try store.create(appPasswordRequest(login: "alice"))
        #expect(second.credential.login == "alice")
        #expect(try store.list().count == 3)
    }

    @Test("Malformed names and logins are refused, naming the field", arguments: [
        ("", "account", "client"),
        ("client", "", "account"),
        (" padded", "account", "client"),
        ("client", "acc\u{7}ount", "account"),
    ])
    func invalidNames(client: String, account: String, field: String) throws {
        let directory = try TemporaryDirectory()
        let store = try CredentialStore(path: directory.path("store.sqlite"))
        do {
            _ = try store.create(try apiKeyRequest(client: client, account: account))
            Issue.record("expected the request to be refused")
        } catch let error as CredentialStoreError {
            #expect(error.code == .invalidInput)
            #expect(error.operation == field)
        }
    }

    @Test("Logins with a colon, white space or nothing are refused", arguments: ["", "a:b", "a b", "tab\t"])
    func invalidLogins(login: String) throws {
        let directory = try TemporaryDirectory()
        let store = try CredentialStore(path: directory.path("store.sqlite"))
        #expect(throws: CredentialStoreError.self) {
            try store.create(appPasswordRequest(login: login))
        }
        #expect(try store.list().isEmpty)
    }

    @Test("Reopening migrates nothing twice and keeps every credential")
    func reopenIsIdempotent() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store.sqlite")
        let created = try CredentialStore(path: path).create(try apiKeyRequest())
        for _ in 0..<3 {
            let store = try CredentialStore(path: path)
            #expect(try store.list().map(\.id) == [created.credential.id])
        }
        let versions = try Self.query(path, "SELECT COUNT(*), MAX(version) FROM schema_version")
        #expect(versions == ["1", "1"])
        #expect(try Self.query(path, "PRAGMA journal_mode") == ["wal"])
    }

    @Test("A store written by a newer schema is refused")
    func newerSchemaRefused() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store.sqlite")
        _ = try CredentialStore(path: path)
        _ = try Self.query(path, "INSERT INTO schema_version (version, applied_at) VALUES (99, 0)")
        do {
            _ = try CredentialStore(path: path)
            Issue.record("expected schemaTooNew")
        } catch {
            #expect(error.code == .schemaTooNew)
        }
    }

    @Test("The revision moves on create and revoke, not when use is recorded")
    func revisionTracksChanges() throws {
        let directory = try TemporaryDirectory()
        let store = try CredentialStore(path: directory.path("store.sqlite"))
        let start = try store.revision()
        let issued = try store.create(try apiKeyRequest())
        let afterCreate = try store.revision()
        #expect(afterCreate > start)
        try store.recordUse(id: issued.credential.id, now: Date())
        #expect(try store.revision() == afterCreate)
        #expect(try store.credential(id: issued.credential.id)?.lastUsedAt != nil)
        _ = try store.revoke(id: issued.credential.id)
        #expect(try store.revision() > afterCreate)
    }

    @Test("A new store file is readable by its owner only")
    func fileMode() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store.sqlite")
        _ = try CredentialStore(path: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        let mode = try #require(attributes[.posixPermissions] as? Int)
        #expect(mode & 0o077 == 0)
    }

    @Test("A store in a missing directory fails with SQLite's reason")
    func openFailure() throws {
        let directory = try TemporaryDirectory()
        do {
            _ = try CredentialStore(path: directory.path("missing/store.sqlite"))
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .sqlite)
            #expect(error.operation == "sqlite3_open_v2")
        }
    }

    /// Runs one statement on a separate raw connection; returns the first row's columns as text.
    static func query(_ path: String, _ sql: String) throws -> [String] {
        var handle: OpaquePointer?
        guard sqlite3_open(path, &handle) == SQLITE_OK, let handle else {
            throw CredentialStoreError(code: .sqlite, operation: "test open", detail: path)
        }
        defer { sqlite3_close(handle) }
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw CredentialStoreError(code: .sqlite, operation: "test prepare", detail: sql)
        }
        defer { sqlite3_finalize(statement) }
        guard sqlite3_step(statement) == SQLITE_ROW else {
            return []
        }
        return (0..<sqlite3_column_count(statement)).map { column in
            sqlite3_column_text(statement, column).map { String(cString: $0) } ?? "NULL"
        }
    }
}
