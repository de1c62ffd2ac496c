/// The address of an upstream install: `http` or `https`, a host, an optional port and an optional
/// path prefix under which the install serves `/tas/...` (`https://td.example/topdesk`).
public struct UpstreamURL: Sendable, Hashable, CustomStringConvertible {
    /// `http` or `https`, lower case.
    public var scheme: String { didSet { authority = Self.authority(scheme: scheme, host: host, port: port) } }
    /// A DNS name (lower case), an IPv4 address, or an IPv6 address without brackets.
    public var host: String { didSet { authority = Self.authority(scheme: scheme, host: host, port: port) } }
    /// The explicit port, or 80/443 by scheme.
    public var port: Int { didSet { authority = Self.authority(scheme: scheme, host: host, port: port) } }
    /// "" or a path starting with "/" and not ending with one, percent-encoding as written.
    public var pathPrefix: String
    /// The value for a `Host` header: the host (IPv6 in brackets) and the port unless it is the
    /// scheme's default. Kept ready, since every forwarded request sends it.
    public private(set) var authority: String

    public init(scheme: String, host: String, port: Int? = nil, pathPrefix: String = "") {
        self.scheme = scheme.lowercased()
        self.host = host.lowercased()
        self.port = port ?? (self.scheme == "https" ? 443 : 80)
        self.pathPrefix = pathPrefix
        authority = Self.authority(scheme: self.scheme, host: self.host, port: self.port)
    }

    public var usesTLS: Bool { scheme == "https" }
    public var defaultPort: Int { usesTLS ? 443 : 80 }

    private static func authority(scheme: String, host: String, port: Int) -> String {
        let hostPart = host.utf8.contains(UInt8(ascii: ":")) ? "[\(host)]" : host
        return port == (scheme == "https" ? 443 : 80) ? hostPart : "\(hostPart):\(port)"
    }

    /// `scheme://authority`, without the prefix.
    public var origin: String { "\(scheme)://\(authority)" }

    public var description: String { origin + pathPrefix }

    /// Parses and checks an upstream URL. On failure the message says what is wrong, to follow
    /// "not a valid URL: ".
    public static func parse(_ text: String) -> Result<UpstreamURL, URLProblem> {
        let lower = text.lowercased()
        let scheme: String
        if lower.hasPrefix("https://") {
            scheme = "https"
        } else if lower.hasPrefix("http://") {
            scheme = "http"
        } else {
            return .failure(URLProblem("the scheme must be http:// or https://"))
        }
        let rest = text.dropFirst(scheme.count + 3)
        if rest.contains("?") || rest.contains("#") {
            return .failure(URLProblem("a query or fragment has no meaning here"))
        }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        var path = String(rest[slash...])
        if authority.contains("@") { return .failure(URLProblem("credentials do not belong in the URL")) }

        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                return .failure(URLProblem("an IPv6 address lacks its closing bracket"))
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else {
                    return .failure(URLProblem("unexpected text after the IPv6 address"))
                }
                portText = after.dropFirst()
            }
            guard !host.isEmpty, host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                return .failure(URLProblem("the IPv6 address is malformed"))
            }
        } else {
            let colon = authority.firstIndex(of: ":")
            host = authority[..<(colon ?? authority.endIndex)]
            portText = colon.map { authority[authority.index(after: $0)...] }
            let allowed = host.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }
            guard !host.isEmpty, allowed, !host.hasPrefix("."), !host.hasPrefix("-") else {
                return .failure(URLProblem("the host is missing or malformed"))
            }
        }
        var port: Int?
        if let portText {
            guard let value = Int(portText), portText.allSatisfy(\.isNumber), (1...65535).contains(value) else {
                return .failure(URLProblem("the port must be a number from 1 to 65535"))
            }
            port = value
        }
        let pathAllowed = path.utf8.allSatisfy { byte in
            byte > 0x20 && byte < 0x7F && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "<")
                && byte != UInt8(ascii: ">") && byte != UInt8(ascii: "\\") && byte != UInt8(ascii: "^")
                && byte != UInt8(ascii: "`") && byte != UInt8(ascii: "{") && byte != UInt8(ascii: "|")
                && byte != UInt8(ascii: "}")
        }
        guard pathAllowed else {
            return .failure(URLProblem("the path contains characters that must be percent-encoded"))
        }
        while path.hasSuffix("/") { path.removeLast() }
        if path.contains("//") || path.split(separator: "/").contains(where: { $0 == "." || $0 == ".." }) {
            return .failure(URLProblem("the path prefix contains empty, \".\" or \"..\" segments"))
        }
        return .success(UpstreamURL(scheme: scheme, host: String(host), port: port, pathPrefix: path))
    }

    public struct URLProblem: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }
}
