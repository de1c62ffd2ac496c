import Credentials
#if canImport(Glibc)
import Glibc
#endif

/// The install's own session endpoints, which the gateway answers itself instead of forwarding.
///
/// Forwarded, both would do harm: `GET /tas/api/logout` carries the pooled token the gateway
/// injected, so one client "logging out" would end the session every client of that account
/// shares (each of their next requests then meets a 401 and waits for a new login); and
/// `/tas/api/login/operator|person` would reach the install with that token instead of a password,
/// be refused with a 401, and be taken for a rejected token. Clients of the gateway have no session
/// to open or end: they send their credential on every request.
enum LegacySessionEndpoint: Equatable {
    /// `/tas/api/login` and anything under it.
    case login
    /// `/tas/api/logout`.
    case logout

    /// The endpoint a request target names, read the way the install reads paths (percent escapes
    /// decoded, `;parameters` dropped, a trailing slash ignored); nil for every other path. A
    /// target whose path cannot be read safely (dot segments, encoded slashes) is nil too: it
    /// names no endpoint of the install as written.
    init?(target: String) {
        guard let endpoint = TargetReading(target: target).sessionEndpoint else { return nil }
        self = endpoint
    }

    /// The endpoint a path names, given in the form `RequestPath` normalizes it to.
    init?(normalizedPath: UnsafeBufferPointer<UInt8>) {
        var path = normalizedPath
        if path.count > 1, path.last == UInt8(ascii: "/") { path = UnsafeBufferPointer(rebasing: path.dropLast()) }
        if path.count < 14 || path[9] != UInt8(ascii: "l") {
            return nil  // most paths: `/tas/api/` and then anything but an `l`
        } else if path.bytesEqual("/tas/api/logout") {
            self = .logout
        } else if path.bytesEqual("/tas/api/login") || path.bytesStart(with: "/tas/api/login/") {
            self = .login
        } else {
            return nil
        }
    }
}

/// A request target as the install reads it, worked out once per request for the session-endpoint
/// check and the path checks of request step 4.
struct TargetReading {
    /// The path and query to forward: the target itself, or an absolute-form target reduced to
    /// them (RFC 9112 section 3.2.2); nil when the target has none (`*`, an authority).
    let originForm: String?
    /// The path cannot be read the way the install reads it (dot segments, encoded slashes): such
    /// a request is refused for every credential, since `/tas/api/x/../logout` would end the
    /// pooled token as a plain logout would.
    let isUnreadable: Bool
    /// The install's session endpoint the path names, if any.
    let sessionEndpoint: LegacySessionEndpoint?

    init(target: String) {
        originForm = target.utf8.first == UInt8(ascii: "/")
            ? target : try? HeaderRewriter.upstreamTarget(target, pathPrefix: "")
        let endpoint: LegacySessionEndpoint?? = originForm.flatMap { originForm in
            RequestPath.withNormalizedPath(originForm) { LegacySessionEndpoint(normalizedPath: $0) }
        }
        isUnreadable = originForm != nil && endpoint == nil
        sessionEndpoint = endpoint ?? nil
    }
}

extension GatewayErrorResponse {
    /// A client asking the gateway for a legacy token. Answered before authentication, so an old
    /// client sending the install's own password learns what to do instead of meeting a bare 401.
    static func tokenLoginNotOffered() -> GatewayErrorResponse {
        GatewayErrorResponse(status: 400, error: "token login not offered",
                             detail: "the gateway keeps the install's sessions itself: send your credential "
                                + "(application password as Basic, or API key as Bearer or X-API-Key) on every "
                                + "request instead of logging in", termination: .clientError)
    }

    static func logoutMethodNotAllowed() -> GatewayErrorResponse {
        GatewayErrorResponse(status: 405, error: "method not allowed", detail: "/tas/api/logout takes GET",
                             termination: .clientError, extraHeaders: [("Allow", "GET, HEAD")])
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// Whether the bytes are exactly the literal's.
    func bytesEqual(_ literal: StaticString) -> Bool {
        count == literal.utf8CodeUnitCount && bytesStart(with: literal)
    }

    /// Whether the bytes begin with the literal's.
    func bytesStart(with literal: StaticString) -> Bool {
        guard count >= literal.utf8CodeUnitCount else { return false }
        guard let base = baseAddress else { return literal.utf8CodeUnitCount == 0 }
        return memcmp(base, literal.utf8Start, literal.utf8CodeUnitCount) == 0
    }
}
