import CSQLite
import Dispatch
import Foundation
import Synchronization
import Testing
@testable import Credentials

@Suite("Credential verifier")
struct CredentialVerifierTests {
    let directory: TemporaryDirectory
    let clock = ManualClock()
    let store: CredentialStore

    init() throws {
        directory = try TemporaryDirectory()
        store = try CredentialStore(path: directory.path("store.sqlite"))
    }

    func makeVerifier(_ configure: (inout CredentialVerifier.Configuration) -> Void = { _ in }) -> CredentialVerifier {
        var configuration = CredentialVerifier.Configuration()
        configure(&configuration)
        return CredentialVerifier(store: store, configuration: configuration, clock: clock.function)
    }

    @Test("The right API key is valid and yields its credential")
    func validAPIKey() throws {
        let issued = try store.create(try apiKeyRequest(), now: clock.now)
        let verifier = makeVerifier()
        #expect(verifier.verify(apiKey: issued.secret) == .valid(issued.credential))
        // And again from the cache.
        #expect(verifier.verify(apiKey: issued.secret) == .valid(issued.credential))
    }

    @Test("A wrong secret for a known id is invalid, and is compared in constant time")
    func wrongSecret() throws {
        let issued = try store.create(try apiKeyRequest(), now: clock.now)
        let verifier = makeVerifier()
        let (id, secret) = try #require(APIKeyFormat.split(issued.secret))
        let lastCharacter = secret.last == "A" ? "B" : "A"
        let wrong = "tbk_\(id)_\(secret.dropLast())\(lastCharacter)"
        let before = SecretDigest.constantTimeComparisons.load(ordering: .relaxed)
        #expect(verifier.verify(apiKey: wrong) == .invalid)
        #expect(SecretDigest.constantTimeComparisons.load(ordering: .relaxed) > before)
    }

    @Test("Constant-time equality tells equal digests from ones differing in any byte")
    func constantTimeEquality() throws {
        let digest = SecretHashing.storedHash(credentialID: "abc", secret: "secret")
        #expect(digest.constantTimeEquals(SecretHashing.storedHash(credentialID: "abc", secret: "secret")))
        #expect(!digest.constantTimeEquals(SecretHashing.storedHash(credentialID: "abd", secret: "secret")))
        for index in [0, 15, 31] {
            var bytes = digest.bytes
            bytes[index] ^= 1
            #expect(!digest.constantTimeEquals(try #require(SecretDigest(bytes: bytes))))
        }
    }

    @Test("An unknown id is invalid")
    func unknownID() throws {
        _ = try store.create(try apiKeyRequest(), now: clock.now)
        let verifier = makeVerifier()
        let key = "tbk_" + String(repeating: "a", count: 12) + "_" + String(repeating: "B", count: 32)
        #expect(APIKeyFormat.isWellFormed(key))
        #expect(verifier.verify(apiKey: key) == .invalid)
    }

    @Test("Malformed keys are invalid without a crash", arguments: [
        "",
        "tbk_",
        "tbk__",
        "xyz_abcdefghijkl_ABCDEFGHIJKLMNOPQRSTUVWXYZ012345",
        "TBK_abcdefghijkl_ABCDEFGHIJKLMNOPQRSTUVWXYZ012345",
        "tbk_abcdefghijkl-ABCDEFGHIJKLMNOPQRSTUVWXYZ012345",
        "tbk_ABCDEFGHIJKL_ABCDEFGHIJKLMNOPQRSTUVWXYZ012345",
        "tbk_abcdefghijkl_ABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
        "tbk_abcdefghijkl_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456",
        "tbk_abcdefghijkl_ABCDEFGHIJKLMNOPQRSTUVWXYZ01234é",
        "tbk_abcdéfghijk_ABCDEFGHIJKLMNOPQRSTUVWXYZ012345",
        "tbk_abcdefghijkl_ABCDEFGHIJKLMNOPQRSTUVWXYZ01234\u{0}",
        "tbk_abcdefghijkl_" + String(repeating: "A", count: 100_000),
        String(repeating: "🔑", count: 49),
    ])
    func malformedKeys(key: String) throws {
        let issued = try store.create(try apiKeyRequest(), now: clock.now)
        let verifier = makeVerifier()
        #expect(verifier.verify(apiKey: key) == .invalid)
        // The real key still works afterwards.
        #expect(verifier.verify(apiKey: issued.secret) == .valid(issued.credential))
    }

    @Test("Revocation through a second connection is seen within one refresh interval")
    func revocationByAnotherConnection() throws {
        let issued = try store.create(try apiKeyRequest(), now: clock.now)
        let verifier = makeVerifier()
        #expect(verifier.verify(apiKey: issued.secret) == .valid(issued.credential))

        // The CLI's own connection, as another process would have.
        let cli = try CredentialStore(path: store.path)
        _ = try cli.revoke(id: issued.credential.id, now: clock.now)

        // Within the same second the cached answer may still stand...
        clock.advance(seconds: 0.5)
        #expect(verifier.verify(apiKey: issued.secret) == .valid(issued.credential))
        // ...but once the refresh interval has passed, the revision check drops the cache.
        clock.advance(seconds: 0.5)
        #expect(verifier.verify(apiKey: issued.secret) == .revoked)
        #expect(verifier.verify(apiKey: issued.secret) == .revoked)
    }

    @Test("refreshIfChanged reports a change once and drops the cache")
    func explicitRefresh() throws {
        let issued = try store.create(try apiKeyRequest(), now: clock.now)
        let verifier = makeVerifier()
        _ = verifier.verify(apiKey: issued.secret)
        #expect(verifier.refreshIfChanged() == false)
        _ = try CredentialStore(path: store.path).revoke(id: issued.credential.id, now: clock.now)
        #expect(verifier.refreshIfChanged() == true)
        #expect(verifier.cachedEntryCount == 0)
        #expect(verifier.refreshIfChanged() == false)
        #expect(verifier.verify(apiKey: issued.secret) == .revoked)
    }

    @Test("A credential expires at its expiry time, even while cached")
    func expiry() throws {
        let issued = try store.create(try apiKeyRequest(expiresAt: clock.now.addingTimeInterval(30)), now: clock.now)
        let verifier = makeVerifier()
        #expect(verifier.verify(apiKey: issued.secret) == .valid(issued.credential))
        clock.advance(seconds: 29.9)
        #expect(verifier.verify(apiKey: issued.secret) == .valid(issued.credential))
        clock.advance(seconds: 0.1)
        #expect(verifier.verify(apiKey: issued.secret) == .expired)
        // A fresh verifier (no cache) agrees.
        #expect(makeVerifier().verify(apiKey: issued.secret) == .expired)
    }

    @Test("Revoked and expired are told only to someone with the right secret")
    func statusNeedsSecret() throws {
        let issued = try store.create(try apiKeyRequest(), now: clock.now)
        _ = try store.revoke(id: issued.credential.id, now: clock.now)
        let verifier = makeVerifier()
        let (id, _) = try #require(APIKeyFormat.split(issued.secret))
        #expect(verifier.verify(apiKey: "tbk_\(id)_" + String(repeating: "Z", count: 32)) == .invalid)
        #expect(verifier.verify(apiKey: issued.secret) == .revoked)
    }

    @Test("An application password verifies with its login only")
    func appPassword() throws {
        let alice = try store.create(appPasswordRequest(login: "alice"), now: clock.now)
        let bob = try store.create(appPasswordRequest(login: "bob"), now: clock.now)
        let verifier = makeVerifier()
        #expect(verifier.verify(login: "alice", password: alice.secret) == .valid(alice.credential))
        #expect(verifier.verify(login: "bob", password: bob.secret) == .valid(bob.credential))
        #expect(verifier.verify(login: "bob", password: alice.secret) == .invalid)
        #expect(verifier.verify(login: "Alice", password: alice.secret) == .invalid)
        #expect(verifier.verify(login: "alice", password: alice.secret.uppercased()) == .invalid)
        #expect(verifier.verify(login: "alice", password: "") == .invalid)
        #expect(verifier.verify(login: "", password: alice.secret) == .invalid)
        #expect(verifier.verify(login: String(repeating: "a", count: 10_000), password: alice.secret) == .invalid)
        // An API key is not an application password, nor the reverse.
        let key = try store.create(try apiKeyRequest(), now: clock.now)
        #expect(verifier.verify(login: "alice", password: key.secret) == .invalid)
        #expect(verifier.verify(apiKey: alice.secret) == .invalid)
    }

    @Test("An old revoked application password of a login stays revoked after a new one is issued")
    func appPasswordHistory() throws {
        let old = try store.create(appPasswordRequest(login: "alice"), now: clock.now)
        _ = try store.revoke(id: old.credential.id, now: clock.now)
        let new = try store.create(appPasswordRequest(login: "alice"), now: clock.now)
        let verifier = makeVerifier()
        #expect(verifier.verify(login: "alice", password: old.secret) == .revoked)
        #expect(verifier.verify(login: "alice", password: new.secret) == .valid(new.credential))
    }

    @Test("A cache hit does not go to the store; an expired cache entry does")
    func cacheSparesTheStore() throws {
        let issued = try store.create(try apiKeyRequest(), now: clock.now)
        let verifier = makeVerifier { $0.validLifetime = .seconds(60) }
        let firstUse = clock.now
        #expect(verifier.verify(apiKey: issued.secret) == .valid(issued.credential))
        #expect(try store.credential(id: issued.credential.id)?.lastUsedAt == firstUse)

        // Recording use is the visible trace of a store verification: none within the lifetime.
        clock.advance(seconds: 30)
        #expect(verifier.verify(apiKey: issued.secret) == .valid(issued.credential))
        #expect(try store.credential(id: issued.credential.id)?.lastUsedAt == firstUse)

        clock.advance(seconds: 31)
        guard case .valid(let credential) = verifier.verify(apiKey: issued.secret) else {
            Issue.record("expected the key to stay valid")
            return
        }
        #expect(credential.id == issued.credential.id)
        #expect(credential.lastUsedAt == firstUse)
        #expect(try store.credential(id: issued.credential.id)?.lastUsedAt == clock.now)
    }

    @Test("A failure is remembered for the failure lifetime only")
    func failureLifetime() throws {
        let verifier = makeVerifier { $0.failureLifetime = .seconds(2) }
        let key = "tbk_" + String(repeating: "a", count: 12) + "_" + String(repeating: "B", count: 32)
        let cacheKey = SecretHashing.cacheKey(apiKey: key)
        #expect(verifier.verify(apiKey: key) == .invalid)
        #expect(verifier.cachedEntryCount == 1)
        let cache = VerificationCache(maximumValidEntries: 16, maximumRejectedEntries: 16)
        cache.insert(cacheKey, .rejected(.invalid), expiresAt: 2_000, revision: 1, now: 0)
        #expect(cache.lookup(cacheKey, now: 1_999, revision: 1) != nil)
        #expect(cache.lookup(cacheKey, now: 2_000, revision: 1) == nil)
        #expect(cache.lookup(cacheKey, now: 0, revision: 2) == nil)
    }

    @Test("A flood of distinct bad keys fills a bounded failure cache")
    func failureCacheIsBounded() throws {
        let verifier = makeVerifier { $0.maximumFailureEntries = 32 }
        for index in 0..<500 {
            let id = String(String(index, radix: 36).reversed()).padding(toLength: 12, withPad: "x", startingAt: 0)
            #expect(verifier.verify(apiKey: "tbk_\(id)_" + String(repeating: "C", count: 32)) == .invalid)
        }
        #expect(verifier.cachedEntryCount <= 32)
        #expect(verifier.cachedEntryCount > 0)
    }

    @Test("A credential created after a failed attempt works at once")
    func creationClearsFailures() throws {
        let verifier = makeVerifier { $0.failureLifetime = .seconds(60) }
        _ = verifier.verify(login: "alice", password: "aaaaa-bbbbb-ccccc-ddddd-eeeee")
        let issued = try store.create(appPasswordRequest(login: "alice"), now: clock.now)
        clock.advance(seconds: 1)
        #expect(verifier.verify(login: "alice", password: issued.secret) == .valid(issued.credential))
    }

    @Test("Many threads verify at once and all agree")
    func concurrentVerification() throws {
        let keys = try (0..<4).map { _ in try store.create(try apiKeyRequest(), now: clock.now) }
        let verifier = makeVerifier()
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 400) { iteration in
            let issued = keys[iteration % keys.count]
            // Compared by id: whichever thread reads the row after another recorded a use sees
            // `lastUsedAt` set, and that copy may be the one cached; it is the same credential.
            guard case .valid(let credential) = verifier.verify(apiKey: issued.secret),
                  credential.id == issued.credential.id else {
                failures.add(1, ordering: .relaxed)
                return
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
    }
}

@Suite("Verifier helpers")
struct VerifierHelperTests {
    @Test("A fingerprint is 8 hex digits, stable, and differs between secrets")
    func fingerprint() {
        let first = CredentialVerifier.fingerprint(of: "tbk_aaaaaaaaaaaa_" + String(repeating: "B", count: 32))
        let again = CredentialVerifier.fingerprint(of: "tbk_aaaaaaaaaaaa_" + String(repeating: "B", count: 32))
        let other = CredentialVerifier.fingerprint(of: "tbk_aaaaaaaaaaaa_" + String(repeating: "C", count: 32))
        #expect(first.count == 8)
        #expect(first.allSatisfy { $0.isHexDigit })
        #expect(first == again)
        #expect(first != other)
    }

    @Test("Recording use does not wait for another writer")
    func recordUseDoesNotWait() throws {
        let directory = try TemporaryDirectory()
        let store = try CredentialStore(path: directory.path("store.sqlite"), busyTimeout: .seconds(5))
        let issued = try store.create(try apiKeyRequest())
        // Another connection holds the write lock, as the CLI would in the middle of a write.
        var handle: OpaquePointer?
        #expect(sqlite3_open(store.path, &handle) == SQLITE_OK)
        defer { sqlite3_close(handle) }
        #expect(sqlite3_exec(handle, "BEGIN IMMEDIATE", nil, nil, nil) == SQLITE_OK)
        let started = ContinuousClock.now
        #expect(throws: CredentialStoreError.self) {
            try store.recordUse(id: issued.credential.id, now: Date())
        }
        #expect(ContinuousClock.now - started < .seconds(1))
        // The verifier still answers (the note is dropped), and reads are not blocked by the writer.
        let verifier = CredentialVerifier(store: store)
        #expect(verifier.verify(apiKey: issued.secret) == .valid(issued.credential))
        #expect(sqlite3_exec(handle, "ROLLBACK", nil, nil, nil) == SQLITE_OK)
    }
}
