/// A session token of the legacy login, as handed out by the pool.
///
/// `generation` identifies this issue of a token within its account: invalidation compares it, so a
/// late 401 for a token that was already replaced removes nothing. The token value is a secret:
/// `description` and the mirror show only the generation and a fingerprint, never the value.
///
/// Immutable and shared: a class, so handing a token to each request that uses it is one reference
/// count, not one for each of its strings. Two tokens are equal when their value, generation and
/// account are.
public final class LegacyToken: Sendable, Hashable, CustomStringConvertible, CustomReflectable {
    /// The raw token, to be sent as `Authorization: TOKEN id="<value>"`. Never log it.
    public let value: String
    /// Increases with every token the account obtains; unique within the account.
    public let generation: UInt64
    public let account: AccountKey
    /// The header value the legacy API expects (LEGACY_API.md, two-step login, step 5). Made once
    /// per token, not per request.
    public let authorizationHeaderValue: String

    public init(value: String, generation: UInt64, account: AccountKey) {
        self.value = value
        self.generation = generation
        self.account = account
        authorizationHeaderValue = "TOKEN id=\"\(value)\""
    }

    public static func == (left: LegacyToken, right: LegacyToken) -> Bool {
        left === right || (left.value == right.value && left.generation == right.generation
            && left.account == right.account)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(value)
        hasher.combine(generation)
        hasher.combine(account)
    }

    /// Eight hex digits of a 32-bit FNV-1a hash of the value: enough to tell tokens apart in a log,
    /// far too little to recover or guess a token from.
    public var fingerprint: String { Self.fingerprint(of: value) }

    public var description: String { "token #\(generation) [\(fingerprint)] of \(account)" }

    public var customMirror: Mirror {
        Mirror(self, children: ["generation": generation, "fingerprint": fingerprint, "account": account])
    }

    public static func fingerprint(of value: String) -> String {
        var hash: UInt32 = 0x811C_9DC5
        for byte in value.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 0x0100_0193
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }
}

/// What a plausible legacy token looks like. The upstream promises nothing beyond "opaque printable
/// ASCII" (LEGACY_API.md), so this only rejects what certainly is not a token: an HTML page from a
/// wrong base path, an empty or huge body, or characters that cannot stand inside `id="..."`.
public enum LegacyTokenFormat {
    public static let maximumLength = 512

    /// Nil when `candidate` is acceptable, else a sentence saying why not (never echoing it).
    public static func problem(with candidate: String) -> String? {
        let bytes = candidate.utf8
        if bytes.isEmpty { return "the body is empty" }
        if bytes.first == UInt8(ascii: "<") { return "the body looks like an HTML or XML page" }
        if bytes.count > maximumLength { return "the body is longer than \(maximumLength) bytes" }
        for byte in bytes {
            if byte <= 0x20 || byte >= 0x7F { return "the body contains spaces, control or non-ASCII characters" }
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                return "the body contains a quote or backslash"
            }
        }
        return nil
    }
}
