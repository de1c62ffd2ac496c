import Synchronization

/// Recent verification outcomes, keyed by the digest of what the client presented.
///
/// Split into shards, each behind its own `Mutex`, so event loops verifying different secrets
/// rarely meet on one lock; each critical section is one dictionary operation.
///
/// Entries carry the store revision they were read at. An entry counts only while that revision is
/// still the verifier's current one, so a revision change invalidates every entry at once, even
/// before `removeAll()` has swept the shards.
final class VerificationCache: Sendable {
    enum Outcome: Sendable {
        case valid(Credential)
        case rejected(Verification)

        var isValid: Bool {
            switch self {
            case .valid:
                return true
            case .rejected:
                return false
            }
        }
    }

    private struct Entry {
        var outcome: Outcome
        var expiresAt: Int64
        var revision: Int64
    }

    private struct Shard {
        var entries: [SecretDigest: Entry] = [:]
        var validCount = 0
        var rejectedCount = 0
        /// Lookups answered from, and missing in, this shard since the cache was made; kept when
        /// the entries are dropped, so they only grow (metrics count them).
        var hits = 0
        var misses = 0

        mutating func remove(_ key: SecretDigest) {
            guard let old = entries.removeValue(forKey: key) else {
                return
            }
            if old.outcome.isValid {
                validCount -= 1
            } else {
                rejectedCount -= 1
            }
        }

        mutating func purge(now: Int64, revision: Int64) {
            entries = entries.filter { $0.value.expiresAt > now && $0.value.revision == revision }
            validCount = entries.values.count { $0.outcome.isValid }
            rejectedCount = entries.count - validCount
        }
    }

    private final class ShardBox: Sendable {
        let state = Mutex(Shard())
    }

    private static let shardCount = 16
    private let shards: [ShardBox]
    private let maximumValidPerShard: Int
    private let maximumRejectedPerShard: Int

    init(maximumValidEntries: Int, maximumRejectedEntries: Int) {
        shards = (0..<Self.shardCount).map { _ in ShardBox() }
        maximumValidPerShard = max(1, maximumValidEntries / Self.shardCount)
        maximumRejectedPerShard = max(1, maximumRejectedEntries / Self.shardCount)
    }

    /// The outcome remembered for `key`, if it is still fresh and from the current `revision`.
    func lookup(_ key: SecretDigest, now: Int64, revision: Int64) -> Outcome? {
        shard(for: key).state.withLock { shard -> Outcome? in
            guard let entry = shard.entries[key], entry.expiresAt > now, entry.revision == revision else {
                shard.misses += 1
                return nil
            }
            shard.hits += 1
            return entry.outcome
        }
    }

    /// Remembers `outcome` until `expiresAt`. When the shard is full even after dropping stale
    /// entries, the outcome is not remembered: the next attempt asks the store again.
    func insert(_ key: SecretDigest, _ outcome: Outcome, expiresAt: Int64, revision: Int64, now: Int64) {
        shard(for: key).state.withLock { shard in
            shard.remove(key)
            let isFull = { (shard: Shard) -> Bool in
                outcome.isValid ? shard.validCount >= self.maximumValidPerShard
                    : shard.rejectedCount >= self.maximumRejectedPerShard
            }
            if isFull(shard) {
                shard.purge(now: now, revision: revision)
                if isFull(shard) {
                    return
                }
            }
            shard.entries[key] = Entry(outcome: outcome, expiresAt: expiresAt, revision: revision)
            if outcome.isValid {
                shard.validCount += 1
            } else {
                shard.rejectedCount += 1
            }
        }
    }

    func removeAll() {
        for box in shards {
            box.state.withLock { shard in
                shard.entries.removeAll()
                shard.validCount = 0
                shard.rejectedCount = 0
            }
        }
    }

    var count: Int {
        shards.reduce(0) { total, box in total + box.state.withLock { $0.entries.count } }
    }

    /// Lookups that found a fresh entry and lookups that did not, over every shard.
    var lookupCounts: (hits: Int, misses: Int) {
        shards.reduce(into: (hits: 0, misses: 0)) { total, box in
            let (hits, misses) = box.state.withLock { ($0.hits, $0.misses) }
            total.hits += hits
            total.misses += misses
        }
    }

    private func shard(for key: SecretDigest) -> ShardBox {
        shards[key.hashValue & (Self.shardCount - 1)]
    }
}
