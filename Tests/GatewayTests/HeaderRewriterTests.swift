import HTTP1
import Testing
@testable import Gateway
@testable import Network

@Suite("Header rewriting")
struct HeaderRewriterTests {
    static let upstream = UpstreamURL(scheme: "https", host: "td.example.com", port: 8443, pathPrefix: "/topdesk")
    static let plainUpstream = UpstreamURL(scheme: "http", host: "td.example.com")

    static func context(_ upstream: UpstreamURL = upstream, bodyLength: Int = 0) -> HeaderRewriter.RequestContext {
        HeaderRewriter.RequestContext(upstream: upstream, authorization: "TOKEN id=\"tok-1\"",
                                      clientAddress: "192.0.2.7", requestID: "req-1", bodyLength: bodyLength)
    }

    @Test("Credentials, cookies, hop-by-hop and forged forwarding headers are dropped; the gateway's are set")
    func requestHeaders() throws {
        let head = HTTPRequestHead(method: "GET", target: "/tas/api/incidents?page_size=5", headers: HTTPHeaders([
            ("Host", "gw.example.org"),
            ("authorization", "Basic YWxpY2U6c2VjcmV0"),
            ("X-Api-Key", "key-123"),
            ("Proxy-Authorization", "Basic eA=="),
            ("Cookie", "JSESSIONID=abc"),
            ("Connection", "keep-alive, X-Custom-Hop,  x-other-hop"),
            ("X-CUSTOM-HOP", "1"),
            ("X-Other-Hop", "2"),
            ("Keep-Alive", "timeout=5"),
            ("Proxy-Connection", "keep-alive"),
            ("TE", "trailers"),
            ("Trailer", "X-Checksum"),
            ("Upgrade", "websocket"),
            ("X-Forwarded-For", "10.6.6.6"),
            ("Forwarded", "for=10.6.6.6"),
            ("X-Real-IP", "10.6.6.6"),
            ("Accept", "application/json"),
            ("X-Request-ID", "req-1"),
        ]))
        let rewritten = try HeaderRewriter.upstreamRequest(head, context: Self.context())
        #expect(rewritten.target == "/topdesk/tas/api/incidents?page_size=5")
        #expect(rewritten.headers.fields == [
            HTTPField(name: "Host", value: "td.example.com:8443"),
            HTTPField(name: "Accept", value: "application/json"),
            HTTPField(name: "X-Request-ID", value: "req-1"),
            HTTPField(name: "Authorization", value: "TOKEN id=\"tok-1\""),
            HTTPField(name: "X-Forwarded-For", value: "192.0.2.7"),
            HTTPField(name: "X-Forwarded-Proto", value: "https"),
            HTTPField(name: "X-Forwarded-Host", value: "gw.example.org"),
        ])
    }

    @Test("The body is framed with Content-Length; Transfer-Encoding and Expect are dropped")
    func requestFraming() throws {
        let head = HTTPRequestHead(method: "POST", target: "/tas/api/incidents", headers: HTTPHeaders([
            ("Host", "gw"), ("Transfer-Encoding", "chunked"), ("Expect", "100-continue"),
            ("Content-Type", "application/json"),
        ]))
        let rewritten = try HeaderRewriter.upstreamRequest(head, context: Self.context(bodyLength: 42))
        #expect(rewritten.headers.first(name: "Content-Length") == "42")
        #expect(!rewritten.headers.contains(name: "Transfer-Encoding"))
        #expect(!rewritten.headers.contains(name: "Expect"))

        let empty = HTTPRequestHead(method: "POST", target: "/x", headers: HTTPHeaders([("Content-Length", "0")]))
        #expect(try HeaderRewriter.upstreamRequest(empty, context: Self.context()).headers["Content-Length"] == ["0"])
        let get = HTTPRequestHead(method: "GET", target: "/x")
        let getHeaders = try HeaderRewriter.upstreamRequest(get, context: Self.context()).headers
        #expect(!getHeaders.contains(name: "Content-Length"))
    }

    @Test("Targets get the upstream prefix and are otherwise passed byte for byte",
          arguments: [
            ("/tas/api/incidents/number/I%201602%20001", "/topdesk",
             "/topdesk/tas/api/incidents/number/I%201602%20001"),
            ("/tas/api/incidents?order_by=creation_date+DESC&x=%2B", "/topdesk",
             "/topdesk/tas/api/incidents?order_by=creation_date+DESC&x=%2B"),
            ("/tas/api/version", "", "/tas/api/version"),
            ("/", "/a/b", "/a/b/"),
            ("https://gw.example.org/tas/api/version?x=1", "/p", "/p/tas/api/version?x=1"),
            ("http://gw.example.org", "", "/"),
            ("http://gw.example.org?x=1", "", "/?x=1"),
          ])
    func targets(_ target: String, _ prefix: String, _ expected: String) throws {
        #expect(try HeaderRewriter.upstreamTarget(target, pathPrefix: prefix) == expected)
    }

    @Test("Asterisk- and authority-form targets cannot be forwarded", arguments: ["*", "gw.example.org:443", "tas/api"])
    func unsupportedTargets(_ target: String) {
        #expect(throws: HeaderRewriter.RewriteError.unsupportedRequestTarget) {
            try HeaderRewriter.upstreamTarget(target, pathPrefix: "")
        }
    }

    @Test("A sane client request id is kept; anything else is replaced",
          arguments: [("abc-123_X.y", true), (String(repeating: "a", count: 128), true),
                      ("", false), (String(repeating: "a", count: 129), false), ("a b", false),
                      ("id\r\nX-Evil: 1", false), ("ïd", false), ("a/b", false), ("{json}", false)])
    func requestIDs(_ candidate: String, _ kept: Bool) {
        let headers = HTTPHeaders([("x-request-id", candidate)])
        let id = HeaderRewriter.requestID(for: headers, generate: { "generated" })
        #expect(id == (kept ? candidate : "generated"))
    }

    @Test("Generated request ids are 32 hex digits and sane")
    func generatedRequestIDs() {
        let id = HeaderRewriter.generateRequestID()
        #expect(id.count == 32)
        #expect(HeaderRewriter.isSaneRequestID(id))
        #expect(id != HeaderRewriter.generateRequestID())
        #expect(HeaderRewriter.requestID(for: HTTPHeaders(), generate: { "g" }) == "g")
    }

    @Test("Generated request ids do not repeat, also when several threads generate at once")
    func generatedRequestIDsAreUnique() async {
        let batches = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<4 {
                group.addTask { (0..<5_000).map { _ in HeaderRewriter.generateRequestID() } }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let all = batches.flatMap { $0 }
        #expect(all.count == 20_000)
        #expect(Set(all).count == all.count)
        #expect(all.allSatisfy { $0.utf8.count == 32 && $0.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66)
        } })
        // Both halves vary (neither is a constant or a plain counter).
        #expect(Set(all.map { $0.prefix(16) }).count == all.count)
        #expect(Set(all.map { $0.suffix(16) }).count == all.count)
    }

    static let links: [(String, UpstreamURL, String?)] = [
        ("https://td.example.com:8443/topdesk/tas/api/incidents/id/1", upstream,
         "https://gw.example.org/tas/api/incidents/id/1"),
        ("HTTPS://TD.EXAMPLE.COM:8443/topdesk/tas/api/x?start=10&page_size=10#f", upstream,
         "https://gw.example.org/tas/api/x?start=10&page_size=10#f"),
        ("https://td.example.com:8443/topdesk", upstream, "https://gw.example.org/"),
        ("https://td.example.com:8443/topdesk?x=1", upstream, "https://gw.example.org/?x=1"),
        ("https://td.example.com:8443/topdeskother/x", upstream, nil),
        ("https://td.example.com:8443/other/x", upstream, nil),
        ("https://td.example.com/topdesk/tas/x", upstream, nil),
        ("http://td.example.com:8443/topdesk/tas/x", upstream, nil),
        ("https://evil.example.com:8443/topdesk/tas/x", upstream, nil),
        ("https://user@td.example.com:8443/topdesk/tas/x", upstream, nil),
        ("//td.example.com:8443/topdesk/tas/x", upstream, "https://gw.example.org/tas/x"),
        ("/topdesk/tas/api/incidents/id/1", upstream, "/tas/api/incidents/id/1"),
        ("/elsewhere", upstream, nil),
        ("incidents/id/1", upstream, nil),
        ("http://td.example.com/tas/secure/login", plainUpstream, "https://gw.example.org/tas/secure/login"),
        ("http://td.example.com:80/tas/x", plainUpstream, "https://gw.example.org/tas/x"),
        ("http://td.example.com:8080/tas/x", plainUpstream, nil),
        ("/tas/api/x", plainUpstream, nil),
    ]

    @Test("Links into the upstream are rewritten to the gateway; others are left alone", arguments: links)
    func rewritesLinks(_ value: String, _ upstream: UpstreamURL, _ expected: String?) {
        let rewritten = HeaderRewriter.rewriteLink(value, upstream: upstream, externalOrigin: "https://gw.example.org")
        #expect(rewritten == expected)
    }

    @Test("Responses lose cookies and hop-by-hop headers; Location, Content-Location and x-next-page-url are rewritten")
    func responseHeaders() {
        let head = HTTPResponseHead(status: 206, headers: HTTPHeaders([
            ("Content-Type", "application/json"),
            ("Set-Cookie", "JSESSIONID=abc; Path=/"),
            ("set-cookie", "other=1"),
            ("Connection", "keep-alive, X-Hop"),
            ("x-hop", "1"),
            ("Keep-Alive", "timeout=5"),
            ("Transfer-Encoding", "chunked"),
            ("location", "https://td.example.com:8443/topdesk/tas/api/incidents/id/1"),
            ("Content-Location", "/topdesk/tas/api/incidents"),
            ("X-Next-Page-URL", "https://td.example.com:8443/topdesk/tas/api/incidents?start=10"),
            ("Link", "https://td.example.com:8443/topdesk/tas/api/incidents"),
        ]))
        let origin = HeaderRewriter.externalOrigin(scheme: "https", host: "gw.example.org:8443")
        let rewritten = HeaderRewriter.clientResponse(head, upstream: Self.upstream, externalOrigin: origin)
        #expect(rewritten.status == 206)
        #expect(rewritten.headers.fields == [
            HTTPField(name: "Content-Type", value: "application/json"),
            HTTPField(name: "location", value: "https://gw.example.org:8443/tas/api/incidents/id/1"),
            HTTPField(name: "Content-Location", value: "/tas/api/incidents"),
            HTTPField(name: "X-Next-Page-URL", value: "https://gw.example.org:8443/tas/api/incidents?start=10"),
            HTTPField(name: "Link", value: "https://td.example.com:8443/topdesk/tas/api/incidents"),
        ])
    }

    @Test("Response fields that are not rewritten keep their bytes, Latin-1 values too")
    func latin1ResponseFieldSurvives() {
        let latin1: [UInt8] = Array("attachment; filename=\"".utf8) + [0x66, 0xE9, 0x2E, 0x74, 0x78, 0x74, 0x22]
        let field = latin1.withUnsafeBytes { HTTPField(name: "Content-Disposition", valueBytes: $0) }
        #expect(field.valueIsLatin1)
        var headers = HTTPHeaders([("Location", "https://td.example.com:8443/topdesk/tas/api/incidents/id/1")])
        headers.add(field)
        let head = HTTPResponseHead(status: 201, headers: headers)
        let origin = HeaderRewriter.externalOrigin(scheme: "https", host: "gw.example.org")
        let rewritten = HeaderRewriter.clientResponse(head, upstream: Self.upstream, externalOrigin: origin)
        var wire: [UInt8] = []
        rewritten.headers.fields[1].appendValueBytes(to: &wire)
        #expect(wire == latin1)
        #expect(rewritten.headers.first(name: "Location") == "https://gw.example.org/tas/api/incidents/id/1")
    }

    @Test("A forged or missing client Host leaves links alone")
    func externalOriginNeedsSaneHost() {
        #expect(HeaderRewriter.externalOrigin(scheme: "https", host: nil) == nil)
        #expect(HeaderRewriter.externalOrigin(scheme: "https", host: "evil.com/x") == nil)
        #expect(HeaderRewriter.externalOrigin(scheme: "https", host: "a b") == nil)
        #expect(HeaderRewriter.externalOrigin(scheme: "https", host: "[::1]:8443") == "https://[::1]:8443")
        let head = HTTPResponseHead(status: 302,
                                    headers: HTTPHeaders([("Location", "https://td.example.com:8443/topdesk/x")]))
        let kept = HeaderRewriter.clientResponse(head, upstream: Self.upstream, externalOrigin: nil)
        #expect(kept.headers.first(name: "Location") == "https://td.example.com:8443/topdesk/x")
    }

    @Test("The request id takes the place of the upstream's, whose other copies go, or comes last")
    func responseRequestID() {
        let upstreamHead = HTTPResponseHead(status: 200, headers: HTTPHeaders([
            ("Content-Type", "application/json"), ("x-request-id", "upstream-1"), ("Content-Length", "2"),
            ("X-Request-ID", "upstream-2"), ("Set-Cookie", "a=b"),
        ]))
        let rewritten = HeaderRewriter.clientResponse(upstreamHead, upstream: Self.upstream, externalOrigin: nil,
                                                      requestID: "req-9")
        #expect(rewritten.headers.fields == [
            HTTPField(name: "Content-Type", value: "application/json"),
            HTTPField(name: "X-Request-ID", value: "req-9"),
            HTTPField(name: "Content-Length", value: "2"),
        ])
        let without = HTTPResponseHead(status: 204, headers: HTTPHeaders([("Date", "x")]))
        #expect(HeaderRewriter.clientResponse(without, upstream: Self.upstream, externalOrigin: nil, requestID: "req-9")
            .headers.fields == [HTTPField(name: "Date", value: "x"), HTTPField(name: "X-Request-ID", value: "req-9")])
        #expect(HeaderRewriter.clientResponse(upstreamHead, upstream: Self.upstream, externalOrigin: nil)
            .headers["X-Request-ID"] == ["upstream-1", "upstream-2"])
    }

    @Test("Host stays in its place, once, even when Connection names it; the client's goes to X-Forwarded-Host")
    func requestHostInPlace() throws {
        let head = HTTPRequestHead(method: "GET", target: "/tas/api/version", headers: HTTPHeaders([
            ("Accept", "*/*"), ("host", "gw.example.org"), ("Connection", "Host"), ("Host", "second.example"),
        ]))
        let rewritten = try HeaderRewriter.upstreamRequest(head, context: Self.context())
        #expect(rewritten.headers["Host"] == ["td.example.com:8443"])
        #expect(rewritten.headers.fields.prefix(2) == [HTTPField(name: "Accept", value: "*/*"),
                                                       HTTPField(name: "Host", value: "td.example.com:8443")])
        #expect(rewritten.headers["X-Forwarded-Host"] == ["gw.example.org"])
        #expect(!rewritten.headers.contains(name: "Connection"))
        let hostless = HTTPRequestHead(method: "GET", target: "/x", version: .http1_0,
                                       headers: HTTPHeaders([("A", "1")]))
        let added = try HeaderRewriter.upstreamRequest(hostless, context: Self.context()).headers
        #expect(added.fields.map(\.name) == ["A", "Host", "Authorization", "X-Forwarded-For", "X-Forwarded-Proto",
                                             "X-Request-ID"])
    }

    @Test("The wire form is exactly the serialized head, for every kind of client head",
          arguments: [
            HTTPRequestHead(method: "GET", target: "/tas/api/incidents?x=1", headers: HTTPHeaders([
                ("Host", "gw.example.org"), ("Accept", "*/*"), ("X-API-Key", "k"), ("Connection", "x-hop"),
                ("X-Hop", "1"), ("x-request-id", "abc"), ("User-Agent", String(repeating: "u", count: 300)),
            ])),
            HTTPRequestHead(method: "POST", target: "https://gw.example.org/tas/api/incidents", version: .http1_0,
                            headers: HTTPHeaders([("Transfer-Encoding", "chunked"), ("Expect", "100-continue")])),
            HTTPRequestHead(method: "HEAD", target: "/", headers: HTTPHeaders([("Content-Length", "0"), ("Host", "h"),
                                                                                ("Host", "second")])),
            HTTPRequestHead(method: "GET", target: "/x", headers: HTTPHeaders()),
          ])
    func wireFormMatches(_ head: HTTPRequestHead) throws {
        var latin1Head = head
        let latin1: [UInt8] = Array("attachment; filename=\"".utf8) + [0xE9] + Array("t\u{E9}.txt\"".utf8)
        latin1Head.headers.add(latin1.withUnsafeBytes { HTTPField(name: "Content-Disposition", valueBytes: $0) })
        for (candidate, bodyLength) in [(head, 0), (head, 17), (latin1Head, 5)] {
            let context = Self.context(bodyLength: bodyLength)
            var expected: [UInt8] = []
            HTTPSerializer.writeHead(try HeaderRewriter.upstreamRequest(candidate, context: context), into: &expected)
            let wire = try HeaderRewriter.upstreamWireRequest(candidate, context: context)
            #expect(wire.bytes == expected)
            #expect(wire.method == candidate.method)
            #expect(wire.keepAlive)
        }
        #expect(throws: HeaderRewriter.RewriteError.unsupportedRequestTarget) {
            try HeaderRewriter.upstreamWireRequest(HTTPRequestHead(method: "OPTIONS", target: "*"),
                                                   context: Self.context())
        }
    }

    @Test("The upstream head is framed as the client would frame it: no Content-Length on a bodiless GET or HEAD")
    func framingAsTheClientSendsIt() throws {
        for (method, bodyLength, hadLength, expected) in [("GET", 0, true, nil), ("HEAD", 0, false, nil),
                                                          ("POST", 0, false, "0"), ("GET", 3, false, "3"),
                                                          ("DELETE", 0, true, "0")] as [(String, Int, Bool, String?)] {
            let head = HTTPRequestHead(method: method, target: "/x",
                                       headers: hadLength ? HTTPHeaders([("Content-Length", "0")]) : HTTPHeaders())
            let rewritten = try HeaderRewriter.upstreamRequest(head, context: Self.context(bodyLength: bodyLength))
            #expect(rewritten.headers.first(name: "Content-Length") == expected, "\(method) \(bodyLength)")
            #expect(HTTPClientRequestFraming.adjustedHead(rewritten, bodyCount: bodyLength) == nil)
        }
    }

    @Test("The response fields one at a time are the built head's, within the bound they announce",
          arguments: [nil, "req-7"] as [String?])
    func responseFieldsMatch(_ requestID: String?) {
        let latin1: [UInt8] = Array("attachment; filename=\"".utf8) + [0xE9, 0x22]
        var headers = HTTPHeaders([
            ("Location", "https://td.example.com:8443/topdesk/tas/api/incidents/id/1"), ("Set-Cookie", "a=b"),
            ("Connection", "x-hop"), ("X-Hop", "1"), ("x-request-id", "up-1"), ("Content-Length", "12"),
            ("X-Next-Page-URL", "/topdesk/tas/api/incidents?start=10"), ("X-Request-ID", "up-2"),
            ("Content-Location", "https://elsewhere.example/x"), ("Keep-Alive", "timeout=5"),
        ])
        headers.add(latin1.withUnsafeBytes { HTTPField(name: "Content-Disposition", valueBytes: $0) })
        let head = HTTPResponseHead(status: 200, headers: headers)
        for origin in ["https://gw.example.org", nil] as [String?] {
            let built = HeaderRewriter.clientResponse(head, upstream: Self.upstream, externalOrigin: origin,
                                                      requestID: requestID)
            var emitted: [HTTPField] = []
            HeaderRewriter.forEachClientResponseField(of: head, upstream: Self.upstream, externalOrigin: { origin },
                                                      requestID: requestID) { emitted.append($0) }
            #expect(emitted == built.headers.fields)
            let written = emitted.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
            #expect(written <= HeaderRewriter.clientResponseFieldsBound(of: head, externalOrigin: { origin },
                                                                         requestID: requestID))
        }
    }
}
