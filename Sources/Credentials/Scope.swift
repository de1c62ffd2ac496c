/// One permission: requests with `method` (or any method, `*`) whose path lies under `pathPrefix`.
///
/// Written `METHOD:PATH-PREFIX`, e.g. `GET:/tas/api/` or `*:/tas/api/incidents`.
///
/// ## Prefixes respect path segments
///
/// A prefix matches a path when the path equals it or continues it with a new segment:
/// `/tas/api/incidents` matches `/tas/api/incidents` and `/tas/api/incidents/id/42`, but not
/// `/tas/api/incidentsArchive`. So `/tas/api/inc` matches nothing but `/tas/api/inc[/...]`. A prefix
/// ending in `/` matches everything below it (`/tas/api/` matches `/tas/api/x`) but not the path
/// without the slash (`/tas/api`), which is a different resource.
///
/// ## Methods
///
/// HTTP methods are case-sensitive (RFC 9110, section 9.1). A scope's method is upper-cased when
/// parsed, and a request method must match it exactly: `get` is not `GET`.
public struct Scope: Sendable, Hashable, CustomStringConvertible {
    /// An upper-case method token, or `*` for any method.
    public let method: String
    /// A path in its normalized form (see `RequestPath`): starts with `/`, no dot segments.
    public let pathPrefix: String

    let prefixBytes: [UInt8]

    /// Parses `METHOD:PATH-PREFIX`.
    public init(parsing text: String) throws(ScopeError) {
        guard let colon = text.firstIndex(of: ":") else {
            throw ScopeError(text: text, reason: "expected METHOD:PATH-PREFIX, e.g. GET:/tas/api/")
        }
        try self.init(method: String(text[..<colon]), pathPrefix: String(text[text.index(after: colon)...]),
                      originalText: text)
    }

    public init(method: String, pathPrefix: String) throws(ScopeError) {
        try self.init(method: method, pathPrefix: pathPrefix, originalText: method + ":" + pathPrefix)
    }

    private init(method: String, pathPrefix: String, originalText: String) throws(ScopeError) {
        guard method == "*" || (!method.isEmpty && method.utf8.allSatisfy(Self.isTokenCharacter)) else {
            throw ScopeError(text: originalText, reason: "the method must be an HTTP method such as GET, or *")
        }
        guard pathPrefix.utf8.first == UInt8(ascii: "/") else {
            throw ScopeError(text: originalText, reason: "the path prefix must start with /")
        }
        guard !pathPrefix.contains("?"), !pathPrefix.contains("#") else {
            throw ScopeError(text: originalText, reason: "the path prefix must not contain a query or fragment")
        }
        guard let normalized = RequestPath.normalizedForMatching(pathPrefix) else {
            throw ScopeError(text: originalText,
                             reason: "the path prefix must not contain dot segments, encoded slashes or bad escapes")
        }
        self.method = method.uppercased()
        self.prefixBytes = normalized
        self.pathPrefix = String(decoding: normalized, as: UTF8.self)
    }

    public var description: String {
        method + ":" + pathPrefix
    }

    /// True when this scope allows `method` on a path already normalized by `RequestPath`.
    func allows(method requestMethod: String, normalizedPath path: UnsafeBufferPointer<UInt8>) -> Bool {
        guard method == "*" || method == requestMethod else {
            return false
        }
        return prefixBytes.withUnsafeBufferPointer { prefix in
            guard path.count >= prefix.count, memcmpEqual(path, prefix) else {
                return false
            }
            // Segment boundary: exact match, prefix ending in '/', or the path continues with '/'.
            return path.count == prefix.count || prefix.last == UInt8(ascii: "/")
                || path[prefix.count] == UInt8(ascii: "/")
        }
    }

    public static func == (lhs: Scope, rhs: Scope) -> Bool {
        lhs.method == rhs.method && lhs.pathPrefix == rhs.pathPrefix
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(method)
        hasher.combine(pathPrefix)
    }

    /// RFC 9110 section 5.6.2 `tchar`.
    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
             UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
             UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}

/// Whether the first `prefix.count` bytes of `path` equal `prefix`.
private func memcmpEqual(_ path: UnsafeBufferPointer<UInt8>, _ prefix: UnsafeBufferPointer<UInt8>) -> Bool {
    for index in 0..<prefix.count where path[index] != prefix[index] {
        return false
    }
    return true
}

public struct ScopeError: Error, Sendable, Equatable, CustomStringConvertible {
    public let text: String
    public let reason: String

    public var description: String {
        "invalid scope '\(text)': \(reason)"
    }
}
