/// The protocol version on a start line. Only HTTP/1.0 and HTTP/1.1 are spoken.
public struct HTTPVersion: Sendable, Equatable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)

    public var description: String { "HTTP/\(major).\(minor)" }
}

/// A request line and its header fields.
public struct HTTPRequestHead: Sendable, Equatable {
    /// The method token exactly as sent (methods are case-sensitive, RFC 9110 section 9.1).
    public var method: String
    /// The request target exactly as sent, percent-encoding untouched.
    public var target: String
    public var version: HTTPVersion
    public var headers: HTTPHeaders

    public init(
        method: String, target: String, version: HTTPVersion = .http1_1, headers: HTTPHeaders = HTTPHeaders()
    ) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
    }

    /// Whether the connection may carry another request after this one (RFC 9112 section 9.3).
    public var keepAlive: Bool {
        keepAliveFor(version: version, headers: headers)
    }
}

/// A status line and its header fields.
public struct HTTPResponseHead: Sendable, Equatable {
    public var version: HTTPVersion
    public var status: Int
    /// The reason phrase; when empty, a serializer writes the standard phrase for `status`.
    public var reason: String
    public var headers: HTTPHeaders

    public init(
        status: Int, reason: String = "", version: HTTPVersion = .http1_1, headers: HTTPHeaders = HTTPHeaders()
    ) {
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers
    }

    /// Whether the connection may carry another exchange after this response.
    public var keepAlive: Bool {
        keepAliveFor(version: version, headers: headers)
    }
}

private func keepAliveFor(version: HTTPVersion, headers: HTTPHeaders) -> Bool {
    let options = headers.listElements(name: "Connection")
    if options.contains(where: { $0.equalsIgnoringASCIICase("close") }) { return false }
    if version == .http1_0 {
        return options.contains(where: { $0.equalsIgnoringASCIICase("keep-alive") })
    }
    return version.major == 1 && version.minor >= 1
}
