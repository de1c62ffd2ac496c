import HTTP1
import Testing

/// A well-formed exchange and what the parser must make of it.
struct ValidCase: Sendable, CustomTestStringConvertible {
    enum Kind: Sendable {
        case requests
        /// Responses to these request methods; `finish` is called at the end of input.
        case responses(methods: [String])
    }

    var name: String
    var kind: Kind
    var wire: [UInt8]
    var expected: [ParsedMessage]

    init(_ name: String, _ kind: Kind, _ wire: String, _ expected: [ParsedMessage]) {
        self.name = name
        self.kind = kind
        self.wire = Array(wire.utf8)
        self.expected = expected
    }

    var testDescription: String { name }

    func run(_ pieces: [[UInt8]]) -> ParseRun {
        switch kind {
        case .requests: return parseRequests(pieces)
        case .responses(let methods): return parseResponses(pieces, methods: methods)
        }
    }
}

let validCases: [ValidCase] = [
    // Requests.
    ValidCase("simple GET", .requests, "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
              [request("GET", "/", [("Host", "example.com")])]),
    ValidCase("GET with query and several fields", .requests,
              "GET /search?q=a%20b&x=1 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\nUser-Agent: t/1.0\r\n\r\n",
              [request("GET", "/search?q=a%20b&x=1", [("Host", "a"), ("Accept", "*/*"), ("User-Agent", "t/1.0")])]),
    ValidCase("HTTP/1.0 request without Host", .requests, "GET /old HTTP/1.0\r\n\r\n",
              [request("GET", "/old", version: .http1_0, [])]),
    ValidCase("POST with Content-Length body", .requests,
              "POST /api HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world",
              [request("POST", "/api", [("Host", "a"), ("Content-Length", "11")], body: "hello world")]),
    ValidCase("POST with Content-Length 0", .requests,
              "POST /api HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
              [request("POST", "/api", [("Host", "a"), ("Content-Length", "0")])]),
    ValidCase("chunked body of two chunks", .requests,
              "POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
              [request("POST", "/u", [("Host", "a"), ("Transfer-Encoding", "chunked")], body: "hello world")]),
    ValidCase("chunked body with extensions", .requests,
              "POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                  + "3;name=value\r\nabc\r\n2 ; a ; b = \"q \\\" s\"\r\nde\r\n0;last\r\n\r\n",
              [request("POST", "/u", [("Host", "a"), ("Transfer-Encoding", "chunked")], body: "abcde")]),
    ValidCase("chunked body with trailers", .requests,
              "POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4\r\ndata\r\n0\r\n"
                  + "Checksum: abc\r\nX-Trailer:  two \r\n\r\n",
              [request("POST", "/u", [("Host", "a"), ("Transfer-Encoding", "chunked")], body: "data",
                       trailers: [("Checksum", "abc"), ("X-Trailer", "two")])]),
    ValidCase("chunk sizes in upper case hex with leading zeros", .requests,
              "PUT /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n000A\r\n0123456789\r\n00\r\n\r\n",
              [request("PUT", "/u", [("Host", "a"), ("Transfer-Encoding", "chunked")], body: "0123456789")]),
    ValidCase("empty list elements around chunked are ignored", .requests,
              "POST /z HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , chunked ,\r\n\r\n2\r\nzz\r\n0\r\n\r\n",
              [request("POST", "/z", [("Host", "a"), ("Transfer-Encoding", ", chunked ,")], body: "zz")]),
    ValidCase("transfer coding names ignore case", .requests,
              "POST /z HTTP/1.1\r\nHost: a\r\ntransfer-encoding: Chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
              [request("POST", "/z", [("Host", "a"), ("transfer-encoding", "Chunked")], body: "x")]),
    ValidCase("Content-Length list of identical values", .requests,
              "POST /l HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc",
              [request("POST", "/l", [("Host", "a"), ("Content-Length", "3, 3")], body: "abc")]),
    ValidCase("two identical Content-Length fields", .requests,
              "POST /l HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\nabc",
              [request("POST", "/l", [("Host", "a"), ("Content-Length", "3"), ("content-length", "3")], body: "abc")]),
    ValidCase("absolute-form target", .requests,
              "GET http://example.com:8080/p?q HTTP/1.1\r\nHost: example.com:8080\r\n\r\n",
              [request("GET", "http://example.com:8080/p?q", [("Host", "example.com:8080")])]),
    ValidCase("asterisk-form target for OPTIONS", .requests, "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
              [request("OPTIONS", "*", [("Host", "a")])]),
    ValidCase("empty lines before the request line are ignored", .requests,
              "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", [request("GET", "/", [("Host", "a")])]),
    ValidCase("optional whitespace around values is trimmed, inner kept", .requests,
              "GET / HTTP/1.1\r\nHost: a\r\nX-Spaced: \t one  two \t\r\n\r\n",
              [request("GET", "/", [("Host", "a"), ("X-Spaced", "one  two")])]),
    ValidCase("empty field value", .requests, "GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\nX-Blank:   \r\n\r\n",
              [request("GET", "/", [("Host", "a"), ("X-Empty", ""), ("X-Blank", "")])]),
    ValidCase("UTF-8 in a field value", .requests, "GET / HTTP/1.1\r\nHost: a\r\nX-Name: Zoë\r\n\r\n",
              [request("GET", "/", [("Host", "a"), ("X-Name", "Zoë")])]),
    ValidCase("field name case and order are kept", .requests,
              "GET / HTTP/1.1\r\nhOST: a\r\nX-B: 1\r\nx-a: 2\r\nX-B: 3\r\n\r\n",
              [request("GET", "/", [("hOST", "a"), ("X-B", "1"), ("x-a", "2"), ("X-B", "3")])]),
    ValidCase("three pipelined requests", .requests,
              "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi"
                  + "GET /3 HTTP/1.1\r\nHost: a\r\n\r\n",
              [request("GET", "/1", [("Host", "a")]),
               request("POST", "/2", [("Host", "a"), ("Content-Length", "2")], body: "hi"),
               request("GET", "/3", [("Host", "a")])]),
    ValidCase("target with percent-encoding and printable odd characters", .requests,
              "GET /a%2Fb/c;p=1/d|e?x=[1]&y={2} HTTP/1.1\r\nHost: a\r\n\r\n",
              [request("GET", "/a%2Fb/c;p=1/d|e?x=[1]&y={2}", [("Host", "a")])]),
    ValidCase("Host as IPv6 literal with port", .requests, "GET / HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n",
              [request("GET", "/", [("Host", "[::1]:8443")])]),
    ValidCase("extension methods are tokens", .requests,
              "M-SEARCH / HTTP/1.1\r\nHost: a\r\n\r\n" + "PROPFIND /d HTTP/1.1\r\nHost: a\r\n\r\n",
              [request("M-SEARCH", "/", [("Host", "a")]), request("PROPFIND", "/d", [("Host", "a")])]),
    ValidCase("chunked body with an empty trailer section after an extension", .requests,
              "POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;a=\"\"\r\nx\r\n0;z=1\r\n\r\n",
              [request("POST", "/u", [("Host", "a"), ("Transfer-Encoding", "chunked")], body: "x")]),
    ValidCase("HTTP/1.0 request with keep-alive and a body", .requests,
              "POST /k HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 4\r\n\r\nbody",
              [request("POST", "/k", version: .http1_0, [("Connection", "keep-alive"), ("Content-Length", "4")],
                       body: "body")]),
    ValidCase("large chunk after a small one", .requests,
              "POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n1a\r\n"
                  + String(repeating: "b", count: 26) + "\r\n0\r\n\r\n",
              [request("POST", "/u", [("Host", "a"), ("Transfer-Encoding", "chunked")],
                       body: "a" + String(repeating: "b", count: 26))]),
    ValidCase("Content-Length with surrounding whitespace", .requests,
              "POST /l HTTP/1.1\r\nHost: a\r\nContent-Length:\t 2 \r\n\r\nok",
              [request("POST", "/l", [("Host", "a"), ("Content-Length", "2")], body: "ok")]),

    // Responses.
    ValidCase("200 with Content-Length", .responses(methods: ["GET"]),
              "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
              [response(200, "OK", [("Content-Length", "5")], body: "hello")]),
    ValidCase("200 chunked with trailers", .responses(methods: ["GET"]),
              "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nServer-Timing: db;dur=5\r\n\r\n",
              [response(200, "OK", [("Transfer-Encoding", "chunked")], body: "abc",
                        trailers: [("Server-Timing", "db;dur=5")])]),
    ValidCase("204 has no body", .responses(methods: ["DELETE", "GET"]),
              "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
              [response(204, "No Content", []), response(200, "OK", [("Content-Length", "1")], body: "x")]),
    ValidCase("304 with Content-Length has no body", .responses(methods: ["GET", "GET"]),
              "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
              [response(304, "Not Modified", [("Content-Length", "10")]),
               response(200, "OK", [("Content-Length", "0")])]),
    ValidCase("response to HEAD with Content-Length has no body", .responses(methods: ["HEAD", "GET"]),
              "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
              [response(200, "OK", [("Content-Length", "100")]),
               response(200, "OK", [("Content-Length", "2")], body: "ok")]),
    ValidCase("a bodiless answer may name any transfer coding: there is no body to lose it from",
              .responses(methods: ["HEAD", "GET", "GET"]),
              "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                  + "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                  + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
              [response(200, "OK", [("Transfer-Encoding", "gzip, chunked")]),
               response(304, "Not Modified", [("Transfer-Encoding", "gzip, chunked")]),
               response(200, "OK", [("Content-Length", "2")], body: "ok")]),
    ValidCase("100 Continue then 200", .responses(methods: ["POST"]),
              "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
              [informational(100, "Continue", []), response(200, "OK", [("Content-Length", "2")], body: "ok")]),
    ValidCase("body delimited by close", .responses(methods: ["GET"]),
              "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of this until the end",
              [response(200, "OK", [("Content-Type", "text/plain")], body: "all of this until the end")]),
    ValidCase("HTTP/1.0 response delimited by close", .responses(methods: ["GET"]),
              "HTTP/1.0 200 OK\r\n\r\nold style",
              [response(200, "OK", version: .http1_0, [], body: "old style")]),
    ValidCase("empty reason phrase", .responses(methods: ["GET"]),
              "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", [response(200, "", [("Content-Length", "0")])]),
    ValidCase("status line without the space before an empty reason", .responses(methods: ["GET"]),
              "HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", [response(404, "", [("Content-Length", "0")])]),
    ValidCase("reason phrase with spaces and UTF-8", .responses(methods: ["GET"]),
              "HTTP/1.1 503 Service  Unavailable – retry\r\nContent-Length: 0\r\n\r\n",
              [response(503, "Service  Unavailable – retry", [("Content-Length", "0")])]),
    ValidCase("103 Early Hints then 200", .responses(methods: ["GET"]),
              "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
                  + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
              [informational(103, "Early Hints", [("Link", "</s.css>; rel=preload")]),
               response(200, "OK", [("Content-Length", "0")])]),
    ValidCase("101 Switching Protocols ends HTTP parsing", .responses(methods: ["GET"]),
              "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
              [response(101, "Switching Protocols", [("Upgrade", "websocket"), ("Connection", "Upgrade")])]),
    ValidCase("two pipelined responses", .responses(methods: ["GET", "GET"]),
              "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nnop",
              [response(200, "OK", [("Content-Length", "1")], body: "a"),
               response(404, "Not Found", [("Content-Length", "3")], body: "nop")]),
    ValidCase("chunked response with extension and no trailers", .responses(methods: ["GET"]),
              "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nA;x=y\r\n0123456789\r\n0\r\n\r\n",
              [response(200, "OK", [("Transfer-Encoding", "chunked")], body: "0123456789")]),
]

@Suite("Valid messages parse the same whole, byte by byte and split anywhere")
struct ValidMessageTests {
    @Test("a valid message parses to the expected heads, bodies and trailers", arguments: validCases)
    func parsesToExpected(_ testCase: ValidCase) {
        let whole = testCase.run(Splitting.whole(testCase.wire))
        #expect(whole.brokenRule == nil)
        #expect(whole.messages == testCase.expected)
        #expect(whole.emptyBodyEvents == 0)
        #expect(!whole.overconsumed)
    }

    @Test("byte-at-a-time input gives the same result", arguments: validCases)
    func byteAtATime(_ testCase: ValidCase) {
        let whole = testCase.run(Splitting.whole(testCase.wire))
        let bytewise = testCase.run(Splitting.byteAtATime(testCase.wire))
        #expect(bytewise.messages == whole.messages)
        #expect(bytewise.brokenRule == whole.brokenRule)
        #expect(bytewise.emptyBodyEvents == 0)
    }

    @Test("every two-piece split gives the same result", arguments: validCases)
    func everySplit(_ testCase: ValidCase) {
        let whole = testCase.run(Splitting.whole(testCase.wire))
        for pieces in Splitting.everyTwoWaySplit(testCase.wire) {
            let split = testCase.run(pieces)
            #expect(split.messages == whole.messages, "split at \(pieces[0].count)")
            #expect(split.brokenRule == whole.brokenRule, "split at \(pieces[0].count)")
        }
    }
}
