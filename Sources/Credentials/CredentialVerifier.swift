import Foundation
import Synchronization

/// The result of checking a presented secret.
public enum Verification: Sendable, Hashable {
    /// The secret belongs to this credential, which is neither revoked nor expired.
    case valid(Credential)
    /// Unknown credential, wrong secret, or not even the shape of one of our secrets.
    case invalid
    /// The right secret of a revoked credential.
    case revoked
    /// The right secret of an expired credential.
    case expired
    /// The store could not be read; the gateway should answer 503, not 401.
    case storeUnavailable
}

/// Checks API keys and application passwords for the gateway's request path.
///
/// - A verified secret is remembered (under a digest of what was presented, never the secret) for
///   `validLifetime`, so the store sees each credential about once per lifetime. A cache hit costs
///   one SHA-256 and one short lock on one of 16 shards.
/// - Failures are remembered only for `failureLifetime` (a few seconds) and in bounded number:
///   enough to keep a flood of one bad key away from SQLite, never enough to lock out a key
///   created a moment later.
/// - Every verification first checks, at most once per `refreshInterval`, whether the store's
///   revision moved (a revocation, by this process or by the `credentials` command in another),
///   and drops the whole cache if it did. So a revocation reaches every caller within about one
///   interval. `refreshIfChanged()` forces that check, e.g. on `SIGHUP`.
/// - Expiry is checked on every hit against the injected clock.
///
/// A revoked or expired credential is reported as such only to someone who presents its right
/// secret; to everyone else it is `.invalid`.
public final class CredentialVerifier: Sendable {
    public struct Configuration: Sendable {
        /// How long a verified secret is trusted without asking the store again. Default 5 minutes.
        public var validLifetime: Duration = .seconds(300)
        /// How long a failed verification is remembered. Default 2 seconds.
        public var failureLifetime: Duration = .seconds(2)
        /// Least time between two checks of the store revision. Default 1 second.
        public var refreshInterval: Duration = .seconds(1)
        /// Most verified secrets remembered. Default 10,000.
        public var maximumValidEntries = 10_000
        /// Most failures remembered. Default 4,096.
        public var maximumFailureEntries = 4_096

        public init() {}
    }

    private let store: CredentialStore
    private let clock: @Sendable () -> Date
    private let validLifetime: Int64
    private let failureLifetime: Int64
    private let refreshInterval: Int64
    private let cache: VerificationCache
    /// The newest store revision seen; cache entries of older revisions do not count.
    private let knownRevision = Atomic<Int64>(0)
    /// Clock time (milliseconds) of the last revision check; `Int64.min` before the first.
    private let lastRevisionCheck = Atomic<Int64>(Int64.min)

    /// - Parameter clock: the current time; tests pass a clock they move by hand.
    public init(store: CredentialStore, configuration: Configuration = Configuration(),
                clock: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.clock = clock
        validLifetime = configuration.validLifetime.milliseconds
        failureLifetime = configuration.failureLifetime.milliseconds
        refreshInterval = configuration.refreshInterval.milliseconds
        cache = VerificationCache(maximumValidEntries: configuration.maximumValidEntries,
                                  maximumRejectedEntries: configuration.maximumFailureEntries)
    }

    /// Verifies an API key as presented in `Authorization: Bearer` or `X-API-Key`.
    public func verify(apiKey: String) -> Verification {
        // Anything that is not shaped like our keys is refused before hashing or locking.
        guard APIKeyFormat.isWellFormed(apiKey) else {
            return .invalid
        }
        let now = clock()
        let cacheKey = SecretHashing.cacheKey(apiKey: apiKey)
        if let verification = cachedVerification(cacheKey, now: now) {
            return verification
        }
        guard let (id, secret) = APIKeyFormat.split(apiKey) else {
            return .invalid
        }
        let candidateID = String(id)
        let found: (credential: CredentialStore.StoredCredential?, revision: Int64)
        do {
            found = try store.storedCredential(id: candidateID)
        } catch {
            return .storeUnavailable
        }
        var matched: Credential?
        if let stored = found.credential, stored.credential.kind == .apiKey {
            let candidate = SecretHashing.storedHash(credentialID: candidateID, secret: secret)
            if stored.secretHash.constantTimeEquals(candidate) {
                matched = stored.credential
            }
        }
        return conclude(matched, cacheKey: cacheKey, revision: found.revision, now: now)
    }

    /// Verifies HTTP Basic `login:password` against the application passwords of `login`.
    public func verify(login: String, password: String) -> Verification {
        guard AppPasswordFormat.isWellFormed(password), !login.isEmpty,
              login.utf8.count <= CredentialStore.maximumLoginLength else {
            return .invalid
        }
        let now = clock()
        let cacheKey = SecretHashing.cacheKey(login: login, password: password)
        if let verification = cachedVerification(cacheKey, now: now) {
            return verification
        }
        let found: (credentials: [CredentialStore.StoredCredential], revision: Int64)
        do {
            found = try store.storedCredentials(login: login)
        } catch {
            return .storeUnavailable
        }
        // Every row is compared (no early exit), so timing does not tell which row matched.
        var matched: Credential?
        for stored in found.credentials where stored.credential.login == login {
            let candidate = SecretHashing.storedHash(credentialID: stored.credential.id, secret: Substring(password))
            if stored.secretHash.constantTimeEquals(candidate) && matched == nil {
                matched = stored.credential
            }
        }
        return conclude(matched, cacheKey: cacheKey, revision: found.revision, now: now)
    }

    /// Reads the store revision now and drops the cache if it moved. Returns true when it did.
    @discardableResult
    public func refreshIfChanged() -> Bool {
        guard let revision = try? store.revision() else {
            // The store cannot be read; cached outcomes stay as they are until it can.
            return false
        }
        return adopt(revision)
    }

    /// A short label for a presented secret (8 hex digits of a domain-separated SHA-256), for
    /// logs and error reports that must tell attempts apart without carrying the secret.
    public static func fingerprint(of presentedSecret: String) -> String {
        SecretHashing.fingerprint(of: presentedSecret)
    }

    /// Entries currently cached (valid and failed), for metrics and tests.
    public var cachedEntryCount: Int {
        cache.count
    }

    /// Verifications answered from the cache (hits) and ones that had to ask the store (misses),
    /// since the verifier was made. Secrets not even shaped like ours count as neither. The
    /// counters live in the cache's shards, under the lock a lookup takes anyway.
    public var cacheLookupCounts: (hits: Int, misses: Int) {
        cache.lookupCounts
    }

    // MARK: Steps

    private func cachedVerification(_ cacheKey: SecretDigest, now: Date) -> Verification? {
        let milliseconds = now.storeMilliseconds
        refreshIfDue(at: milliseconds)
        let revision = knownRevision.load(ordering: .acquiring)
        switch cache.lookup(cacheKey, now: milliseconds, revision: revision) {
        case .valid(let credential):
            return Self.judge(credential, now: now)
        case .rejected(let verification):
            return verification
        case nil:
            return nil
        }
    }

    /// Turns the store's answer into a verification and remembers it.
    private func conclude(_ matched: Credential?, cacheKey: SecretDigest, revision: Int64, now: Date) -> Verification {
        let verification = matched.map { Self.judge($0, now: now) } ?? .invalid
        let milliseconds = now.storeMilliseconds
        adopt(revision)
        // An answer read at an older revision than the newest seen may predate a revocation. The
        // cache would never return it (entries count only at the current revision), so it is not
        // stored at all rather than taking a slot.
        if knownRevision.load(ordering: .acquiring) == revision {
            switch verification {
            case .valid(let credential):
                cache.insert(cacheKey, .valid(credential), expiresAt: milliseconds + validLifetime,
                             revision: revision, now: milliseconds)
            case .invalid, .revoked, .expired, .storeUnavailable:
                cache.insert(cacheKey, .rejected(verification), expiresAt: milliseconds + failureLifetime,
                             revision: revision, now: milliseconds)
            }
        }
        if case .valid(let credential) = verification {
            // Best effort: a read-only or busy store must not fail a valid request.
            try? store.recordUse(id: credential.id, now: now)
        }
        return verification
    }

    private static func judge(_ credential: Credential, now: Date) -> Verification {
        switch credential.status(at: now) {
        case .active:
            return .valid(credential)
        case .expired:
            return .expired
        case .revoked:
            return .revoked
        }
    }

    /// Checks the revision when the last check is at least `refreshInterval` old (or the clock
    /// went backwards). Only the caller that wins the compare-exchange does the check.
    private func refreshIfDue(at now: Int64) {
        let last = lastRevisionCheck.load(ordering: .relaxed)
        if last != Int64.min && now >= last && now - last < refreshInterval {
            return
        }
        guard lastRevisionCheck.compareExchange(expected: last, desired: now, ordering: .relaxed).exchanged else {
            return
        }
        refreshIfChanged()
    }

    /// Makes `revision` the known one if it is newer, dropping the cache. True when it was newer.
    @discardableResult
    private func adopt(_ revision: Int64) -> Bool {
        var current = knownRevision.load(ordering: .acquiring)
        while revision > current {
            let (exchanged, original) = knownRevision.compareExchange(
                expected: current, desired: revision, ordering: .acquiringAndReleasing)
            if exchanged {
                cache.removeAll()
                return true
            }
            current = original
        }
        return false
    }
}

extension Duration {
    var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
