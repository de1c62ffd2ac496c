import COpenSSL
import Synchronization

/// A SHA-256 digest held inline (four words, no heap storage).
///
/// It serves two purposes: the hash of a secret kept in the store, and the key under which the
/// verifier caches the outcome of a presented secret (so the cache never holds a secret).
///
/// Comparing a presented secret with a stored hash goes through `constantTimeEquals`
/// (`CRYPTO_memcmp`). The synthesized `==` is used only for dictionary lookups of cache keys:
/// those are digests of what the caller presented, so timing reveals nothing the caller lacks.
struct SecretDigest: Hashable, Sendable {
    static let byteCount = 32

    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    /// Counts calls of `constantTimeEquals`, so tests can show verification goes through it.
    /// Touched only when a secret is checked against the store, never on a cache hit.
    static let constantTimeComparisons = Atomic<Int>(0)

    init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else {
            return nil
        }
        withUnsafeMutableBytes(of: &words) { destination in
            destination.copyBytes(from: bytes)
        }
    }

    /// Fills the digest through a raw buffer of exactly `byteCount` bytes.
    init(filling: (UnsafeMutableRawBufferPointer) -> Void) {
        withUnsafeMutableBytes(of: &words) { filling($0) }
    }

    var bytes: [UInt8] {
        withUnsafeBytes(of: words) { Array($0) }
    }

    /// Equality in time independent of where the digests differ (`CRYPTO_memcmp`).
    func constantTimeEquals(_ other: SecretDigest) -> Bool {
        Self.constantTimeComparisons.add(1, ordering: .relaxed)
        return withUnsafeBytes(of: words) { mine in
            withUnsafeBytes(of: other.words) { theirs in
                CRYPTO_memcmp(mine.baseAddress, theirs.baseAddress, Self.byteCount) == 0
            }
        }
    }

    static func == (lhs: SecretDigest, rhs: SecretDigest) -> Bool {
        lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1
            && lhs.words.2 == rhs.words.2 && lhs.words.3 == rhs.words.3
    }

    func hash(into hasher: inout Hasher) {
        // The words are already uniformly distributed; two of them are plenty for a hash table.
        hasher.combine(words.0)
        hasher.combine(words.1)
    }
}
