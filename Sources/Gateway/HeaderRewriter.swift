import HTTP1
import Network
import Synchronization

/// Header hygiene between client and upstream, as pure functions over message heads.
///
/// Toward the upstream the gateway speaks as itself: the client's credentials for the gateway,
/// its cookies, its hop-by-hop headers and any forwarding headers it made up are dropped, and the
/// legacy token, the upstream's `Host`, the forwarding headers and a request id are set.
/// Toward the client, links that point at the upstream are made to point at the gateway, and the
/// upstream's cookies and hop-by-hop headers are dropped.
public enum HeaderRewriter {
    /// Hop-by-hop fields (RFC 9110 section 7.6.1, plus the non-standard `Keep-Alive` and
    /// `Proxy-Connection` still seen in the wild, and the proxy authentication pair, which concerns
    /// only the next hop). Fields named in `Connection` are hop-by-hop too.
    /// `Transfer-Encoding` is among them because the gateway frames each message itself.
    public static let hopByHopFields = ["Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer",
                                        "Transfer-Encoding", "Upgrade", "Proxy-Authenticate",
                                        "Proxy-Authorization"]

    /// The client's credentials for the gateway, never forwarded. `Cookie` is among them: the
    /// gateway drops every upstream `Set-Cookie`, so any cookie a client sends was not set through
    /// it, and a forwarded session cookie could make the upstream act as someone other than the
    /// account the gateway chose.
    public static let clientCredentialFields = ["Authorization", "Proxy-Authorization", "X-API-Key", "Cookie"]

    /// Forwarding fields a client could forge. The gateway trusts no proxy in front of it (none is
    /// configurable), so it drops these and sets its own from what it saw on the connection.
    public static let forwardingFields = ["Forwarded", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host",
                                          "X-Forwarded-Port", "X-Real-IP"]

    /// Response fields that may carry a URL of the upstream (`x-next-page-url` is TOPdesk's paging
    /// link).
    public static let linkFields = ["Location", "Content-Location", "X-Next-Page-URL"]

    public static let requestIDField = "X-Request-ID"

    /// What the request rewrite needs to know besides the client's head.
    public struct RequestContext: Sendable {
        public var upstream: UpstreamURL
        /// Value for `Authorization`, e.g. `LegacyToken.authorizationHeaderValue`.
        public var authorization: String
        /// The client's IP address as the connection saw it.
        public var clientAddress: String
        /// Scheme clients used to reach the gateway: "https", or "http" on a plain loopback listener.
        public var externalScheme: String
        /// From `requestID(for:generate:)`.
        public var requestID: String
        /// The request body's length; the gateway has buffered it whole and frames it with
        /// `Content-Length`.
        public var bodyLength: Int

        public init(upstream: UpstreamURL, authorization: String, clientAddress: String,
                    externalScheme: String = "https", requestID: String, bodyLength: Int) {
            self.upstream = upstream
            self.authorization = authorization
            self.clientAddress = clientAddress
            self.externalScheme = externalScheme
            self.requestID = requestID
            self.bodyLength = bodyLength
        }
    }

    public enum RewriteError: Error, Sendable, Equatable {
        /// Only origin-form (`/path?query`) and absolute-form (`https://host/path`) targets can
        /// be forwarded; `*` and authority-form cannot. Answer 400.
        case unsupportedRequestTarget
    }

    // MARK: Request

    /// The head to send upstream for the client's `head`.
    ///
    /// The target's path gets the upstream's prefix in front and is otherwise passed byte for byte
    /// (`%20` stays `%20`; LEGACY_API.md: incident numbers travel that way). `Expect` is dropped:
    /// the body is already buffered whole, nothing is left to wait for. The body is framed with
    /// `Content-Length`, which a GET or HEAD without a body does not carry.
    public static func upstreamRequest(_ head: HTTPRequestHead,
                                       context: RequestContext) throws(RewriteError) -> HTTPRequestHead {
        let target = try upstreamTarget(head.target, pathPrefix: context.upstream.pathPrefix)
        var headers = HTTPHeaders()
        headers.reserveCapacity(head.headers.count + 7)
        forEachUpstreamField(of: head, context: context) { headers.add($0) }
        return HTTPRequestHead(method: head.method, target: target, version: .http1_1, headers: headers)
    }

    /// The same head in wire form, written straight from the client's head: no second field list
    /// is built, and the client sends the bytes as they are.
    public static func upstreamWireRequest(_ head: HTTPRequestHead,
                                           context: RequestContext) throws(RewriteError) -> HTTPWireRequestHead {
        let target = try upstreamTarget(head.target, pathPrefix: context.upstream.pathPrefix)
        // Room: the client's fields (the Host value may come back as X-Forwarded-Host), the values
        // the gateway sets, and the names, separators and numbers around them.
        var clientBytes = 0
        for field in head.headers.fields { clientBytes += field.name.utf8.count + field.value.utf8.count + 4 }
        let setBytes = context.upstream.authority.utf8.count + context.requestID.utf8.count
            + context.authorization.utf8.count + context.clientAddress.utf8.count + context.externalScheme.utf8.count
        let bound = head.method.utf8.count + target.utf8.count + 2 * clientBytes + setBytes + 256
        var bytes: [UInt8] = []
        bytes.reserveCapacity(bound)
        bytes.appendWriting(atMost: bound) { writer in
            writer.append(utf8: head.method)
            writer.append(" ")
            writer.append(utf8: target)
            writer.append(" HTTP/1.1\r\n")
            forEachUpstreamField(of: head, context: context) { writer.append(field: $0) }
            writer.append("\r\n")
        }
        // No `Connection` field goes upstream (it is hop-by-hop), so the connection stays open.
        return HTTPWireRequestHead(method: head.method, bytes: bytes, keepAlive: true)
    }

    /// The fields of the upstream head, in order, for both forms above.
    ///
    /// One pass over the client's fields: the hop-by-hop fields (and those `Connection` names), the
    /// client's credentials, forgeable forwarding fields, `Expect` and the framing go; `Host` and
    /// the request id are set in place (their later copies go). Then the fields the gateway adds.
    private static func forEachUpstreamField(of head: HTTPRequestHead, context: RequestContext,
                                             _ emit: (HTTPField) -> Void) {
        let framing = head.headers.framingFields
        let named = framing.hasConnection ? head.headers.listElements(name: "Connection") : []
        var clientHost: String??
        var sawRequestID = false
        for field in head.headers.fields {
            if field.isNamed("Host") {
                guard clientHost == nil else { continue }
                clientHost = .some(saneAuthority(field.value))
                emit(HTTPField(name: "Host", value: context.upstream.authority))
            } else if field.isNamed(requestIDField) {
                guard !sawRequestID else { continue }
                sawRequestID = true
                emit(HTTPField(name: requestIDField, value: context.requestID))
            } else if !strippedFromRequests.contains(field.name)
                        && !named.contains(where: { field.name.equalsIgnoringASCIICase($0) }) {
                emit(field)
            }
        }
        if clientHost == nil { emit(HTTPField(name: "Host", value: context.upstream.authority)) }
        emit(HTTPField(name: "Authorization", value: context.authorization))
        emit(HTTPField(name: "X-Forwarded-For", value: context.clientAddress))
        emit(HTTPField(name: "X-Forwarded-Proto", value: context.externalScheme))
        if case .some(.some(let clientHost)) = clientHost {
            emit(HTTPField(name: "X-Forwarded-Host", value: clientHost))
        }
        if !sawRequestID { emit(HTTPField(name: requestIDField, value: context.requestID)) }
        // The framing the client would set anyway (HTTPClientRequestFraming): the body's length,
        // except on a GET or HEAD without one.
        let bodyless = context.bodyLength == 0 && (head.method == "GET" || head.method == "HEAD")
        if !bodyless { emit(HTTPField(name: "Content-Length", value: String(context.bodyLength))) }
    }

    /// The target to send upstream: the path prefix, then the client's path and query unchanged.
    /// An absolute-form target (RFC 9112 section 3.2.2) is reduced to its path and query.
    public static func upstreamTarget(_ target: String, pathPrefix: String) throws(RewriteError) -> String {
        let isOriginForm = target.utf8.first == UInt8(ascii: "/")
        if isOriginForm && pathPrefix.isEmpty { return target }
        var pathAndQuery = Substring(target)
        if !isOriginForm {
            let lower = target.prefix(8).lowercased()
            guard lower.hasPrefix("http://") || lower.hasPrefix("https://"),
                  let schemeEnd = target.range(of: "://") else { throw .unsupportedRequestTarget }
            let afterAuthority = target[schemeEnd.upperBound...]
            let pathStart = afterAuthority.firstIndex { $0 == "/" || $0 == "?" } ?? afterAuthority.endIndex
            pathAndQuery = afterAuthority[pathStart...]
            if !pathAndQuery.hasPrefix("/") { pathAndQuery = "/" + pathAndQuery }
        }
        return pathPrefix + pathAndQuery
    }

    /// The client's request id when it is sane (1 to 128 characters of `A-Z a-z 0-9 . _ -`), else
    /// a fresh one from `generate`. Anything else could smuggle text into logs or upstream headers.
    public static func requestID(for headers: HTTPHeaders, generate: () -> String) -> String {
        if let candidate = headers.first(name: requestIDField), isSaneRequestID(candidate) { return candidate }
        return generate()
    }

    public static func isSaneRequestID(_ candidate: String) -> Bool {
        let bytes = candidate.utf8
        guard (1...128).contains(bytes.count) else { return false }
        return bytes.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }

    /// 32 lower-case hex digits, never repeated within the process and, through a random key
    /// drawn once per process, practically never across processes.
    ///
    /// Request ids must be unique, not secret (they travel in headers and logs), so no system
    /// call is spent per id: a shared counter is scrambled with that key by a bijective 64-bit
    /// mixer (the SplitMix64 finalizer), once per half. Distinct counter values give distinct
    /// first halves, so ids cannot repeat before 2^64 of them.
    public static func generateRequestID() -> String {
        let sequence = requestIDCounter.wrappingAdd(1, ordering: .relaxed).oldValue
        let key = requestIDKey
        let high = mixBits(key.0 &+ sequence &* 0x9E37_79B9_7F4A_7C15)
        let low = mixBits(key.1 &+ sequence &* 0xD1B5_4A32_D192_ED03)
        return String(unsafeUninitializedCapacity: 32) { buffer in
            for index in 0..<16 {
                let shift = UInt64(60 - 4 * index)
                buffer[index] = hexDigit(high >> shift)
                buffer[16 + index] = hexDigit(low >> shift)
            }
            return 32
        }
    }

    private static let requestIDCounter = Atomic<UInt64>(0)
    private static let requestIDKey: (UInt64, UInt64) = {
        var generator = SystemRandomNumberGenerator()
        return (generator.next(), generator.next())
    }()

    @inline(__always)
    private static func mixBits(_ value: UInt64) -> UInt64 {
        var bits = value
        bits = (bits ^ (bits >> 30)) &* 0xBF58_476D_1CE4_E5B9
        bits = (bits ^ (bits >> 27)) &* 0x94D0_49BB_1331_11EB
        return bits ^ (bits >> 31)
    }

    @inline(__always)
    private static func hexDigit(_ value: UInt64) -> UInt8 {
        let nibble = UInt8(truncatingIfNeeded: value & 0xF)
        return nibble < 10 ? 0x30 + nibble : 0x57 + nibble
    }

    // MARK: Response

    /// The head to send the client for the upstream's `head`. `externalOrigin` is the gateway as
    /// the client addressed it (`externalOrigin(scheme:host:)`); when nil, links are left alone.
    /// `Transfer-Encoding` is dropped with the other hop-by-hop fields: the caller frames the body
    /// (keeping `Content-Length` when present, else chunked for HTTP/1.1 or close-delimited).
    ///
    /// `externalOrigin` is asked for only when the head has a link field. Fields that are not
    /// rewritten keep their exact bytes (a Latin-1 value stays Latin-1).
    public static func clientResponse(_ head: HTTPResponseHead, upstream: UpstreamURL,
                                      externalOrigin: @autoclosure () -> String?,
                                      requestID: String? = nil) -> HTTPResponseHead {
        var headers = HTTPHeaders()
        headers.reserveCapacity(head.headers.count + 2)
        forEachClientResponseField(of: head, upstream: upstream, externalOrigin: externalOrigin,
                                   requestID: requestID) { headers.add($0) }
        return HTTPResponseHead(status: head.status, reason: head.reason, version: .http1_1, headers: headers)
    }

    /// The fields of `clientResponse`, in order, one at a time: what a head written straight in
    /// wire form is made of (see `clientResponseFieldsBound` for the room they need).
    ///
    /// One pass: the hop-by-hop fields, those `Connection` names and cookies go; the request id,
    /// when given, takes the place of the upstream's (whose later copies go), or comes last; link
    /// fields that point into the upstream are rewritten.
    public static func forEachClientResponseField(
        of head: HTTPResponseHead, upstream: UpstreamURL, externalOrigin: () -> String?, requestID: String?,
        _ emit: (HTTPField) -> Void
    ) {
        let named = head.headers.framingFields.hasConnection ? head.headers.listElements(name: "Connection") : []
        var sawRequestID = false
        var origin: String??
        for field in head.headers.fields {
            if let requestID, field.isNamed(requestIDField) {
                guard !sawRequestID else { continue }
                sawRequestID = true
                emit(HTTPField(name: requestIDField, value: requestID))
            } else if isHopByHop(field.name, named: named) || cookieFields.contains(field.name) {
                continue
            } else if linkNames.contains(field.name) {
                if origin == nil { origin = .some(externalOrigin()) }
                if case .some(.some(let externalOrigin)) = origin,
                   let rewritten = rewriteLink(field.value, upstream: upstream, externalOrigin: externalOrigin) {
                    emit(HTTPField(name: field.name, value: rewritten))
                } else {
                    emit(field)
                }
            } else {
                emit(field)
            }
        }
        if let requestID, !sawRequestID { emit(HTTPField(name: requestIDField, value: requestID)) }
    }

    /// Bytes that `forEachClientResponseField`'s fields, written as `name: value` CRLF lines, never
    /// exceed: a rewritten link is at most the origin and a slash longer than the original.
    public static func clientResponseFieldsBound(of head: HTTPResponseHead, externalOrigin: () -> String?,
                                                 requestID: String?) -> Int {
        var bound = 0
        var links = 0
        for field in head.headers.fields {
            bound += field.name.utf8.count + field.value.utf8.count + 4
            if linkNames.contains(field.name) { links += 1 }
        }
        if links > 0 { bound += links * ((externalOrigin()?.utf8.count ?? 0) + 1) }
        if let requestID { bound += requestIDField.utf8.count + requestID.utf8.count + 4 }
        return bound
    }

    /// "scheme://host" from the client's `Host` header, or nil when it is missing or not a plain
    /// authority (a forged Host must not end up in a Location we send).
    public static func externalOrigin(scheme: String, host: String?) -> String? {
        guard let host, let authority = saneAuthority(host) else { return nil }
        return "\(scheme)://\(authority)"
    }

    /// A link pointing into the upstream, rewritten to point at the gateway; nil when it does not
    /// point there (another origin, or outside the upstream's path prefix).
    ///
    /// Absolute (`https://td.example:8443/prefix/tas/...`) and scheme-relative (`//td.example/...`)
    /// links are compared by scheme, host and port (default ports made explicit) and must lie under
    /// the prefix. A path-absolute link (`/prefix/tas/...`) keeps its form and only loses the
    /// prefix, since the gateway serves the install's paths at its root; other relative links are
    /// left alone.
    public static func rewriteLink(_ value: String, upstream: UpstreamURL, externalOrigin: String) -> String? {
        if value.hasPrefix("/") && !value.hasPrefix("//") {
            guard !upstream.pathPrefix.isEmpty else { return nil }
            return strippingPrefix(upstream.pathPrefix, from: Substring(value)).map { String($0) }
        }
        let scheme: String
        let afterScheme: Substring
        if value.hasPrefix("//") {
            scheme = upstream.scheme
            afterScheme = value.dropFirst(2)
        } else {
            guard let separator = value.range(of: "://") else { return nil }
            scheme = value[..<separator.lowerBound].lowercased()
            afterScheme = value[separator.upperBound...]
        }
        guard scheme == upstream.scheme else { return nil }
        let authorityEnd = afterScheme.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? afterScheme.endIndex
        guard let (host, port) = splitAuthority(afterScheme[..<authorityEnd]),
              host.lowercased() == upstream.host, (port ?? upstream.defaultPort) == upstream.port else { return nil }
        var rest = afterScheme[authorityEnd...]
        if !rest.hasPrefix("/") { rest = "/" + rest }
        guard let path = strippingPrefix(upstream.pathPrefix, from: rest) else { return nil }
        return externalOrigin + path
    }

    // MARK: Helpers

    private static func isHopByHop(_ name: String, named: [Substring]) -> Bool {
        hopByHopNames.contains(name) || named.contains { name.equalsIgnoringASCIICase($0) }
    }

    private static let hopByHopNames = HeaderNameSet(hopByHopFields)
    private static let linkNames = HeaderNameSet(linkFields)
    /// Upstream cookies: dropped, since the upstream's session is the gateway's, not the client's.
    private static let cookieFields = HeaderNameSet(["Set-Cookie", "Set-Cookie2"])
    /// Every field `upstreamRequest` drops by name.
    private static let strippedFromRequests = HeaderNameSet(
        hopByHopFields + clientCredentialFields + forwardingFields + ["Expect", "Content-Length"])

    /// `path` without `prefix`, or nil when `path` is not under it; "/" when nothing is left.
    private static func strippingPrefix(_ prefix: String, from path: Substring) -> Substring? {
        guard !prefix.isEmpty else { return path }
        guard path.hasPrefix(prefix) else { return nil }
        let rest = path.dropFirst(prefix.count)
        if rest.isEmpty { return "/" }
        switch rest.first {
        case "/": return rest
        case "?", "#": return "/" + rest
        default: return nil
        }
    }

    /// Host (IPv6 without brackets) and optional port; nil for user info or malformed text.
    private static func splitAuthority(_ authority: Substring) -> (Substring, Int?)? {
        guard !authority.isEmpty, !authority.contains("@") else { return nil }
        var host = authority, portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portText = after.dropFirst()
            }
        } else if let colon = authority.firstIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        }
        guard let portText else { return (host, nil) }
        guard !portText.isEmpty, portText.allSatisfy({ $0.isASCII && $0.isNumber }), let port = Int(portText) else {
            return nil
        }
        return (host, port)
    }

    /// The value if it is a plain `host[:port]` (letters, digits, `.-:[]`), else nil.
    private static func saneAuthority(_ value: String) -> String? {
        let bytes = value.utf8
        guard (1...255).contains(bytes.count) else { return nil }
        let isAuthorityByte = { (byte: UInt8) in
            (byte >= 0x30 && byte <= 0x39) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ":")
                || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "]")
        }
        let plain = bytes.withContiguousStorageIfAvailable { $0.allSatisfy(isAuthorityByte) }
            ?? bytes.allSatisfy(isAuthorityByte)
        return plain ? value : nil
    }
}
