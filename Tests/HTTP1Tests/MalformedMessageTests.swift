import HTTP1
import Testing

/// A message that breaks one rule, and the rule the parser must name.
struct MalformedCase: Sendable, CustomTestStringConvertible {
    var name: String
    var kind: ValidCase.Kind
    var wire: [UInt8]
    var rule: HTTPParseError.Rule

    init(_ name: String, _ kind: ValidCase.Kind, _ wire: String, _ rule: HTTPParseError.Rule) {
        self.init(name, kind, bytes: Array(wire.utf8), rule)
    }

    init(_ name: String, _ kind: ValidCase.Kind, bytes: [UInt8], _ rule: HTTPParseError.Rule) {
        self.name = name
        self.kind = kind
        self.wire = bytes
        self.rule = rule
    }

    var testDescription: String { name }

    func run(_ pieces: [[UInt8]]) -> ParseRun {
        switch kind {
        case .requests: return parseRequests(pieces)
        case .responses(let methods): return parseResponses(pieces, methods: methods)
        }
    }
}

private let get: ValidCase.Kind = .responses(methods: ["GET"])

/// A request head with these extra lines after `Host: a`.
private func requestWith(_ lines: String, body: String = "") -> String {
    "POST / HTTP/1.1\r\nHost: a\r\n\(lines)\r\n\(body)"
}

/// A chunked request with this body.
private func chunked(_ body: String) -> String {
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\(body)"
}

let malformedCases: [MalformedCase] = [
    // Content-Length and Transfer-Encoding (RFC 9112 sections 6.1, 6.3, 11.2).
    MalformedCase("Content-Length with Transfer-Encoding", .requests,
                  requestWith("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"),
                  .contentLengthWithTransferEncoding),
    MalformedCase("Transfer-Encoding before Content-Length", .requests,
                  requestWith("Transfer-Encoding: chunked\r\nContent-Length: 0\r\n"),
                  .contentLengthWithTransferEncoding),
    MalformedCase("differing Content-Length list", .requests, requestWith("Content-Length: 5, 6\r\n"),
                  .conflictingContentLength),
    MalformedCase("differing Content-Length fields", .requests,
                  requestWith("Content-Length: 5\r\nContent-Length: 6\r\n"), .conflictingContentLength),
    MalformedCase("Content-Length not a number", .requests, requestWith("Content-Length: abc\r\n"),
                  .invalidContentLength),
    MalformedCase("negative Content-Length", .requests, requestWith("Content-Length: -1\r\n"), .invalidContentLength),
    MalformedCase("Content-Length with a plus sign", .requests, requestWith("Content-Length: +5\r\n"),
                  .invalidContentLength),
    MalformedCase("empty Content-Length", .requests, requestWith("Content-Length:\r\n"), .invalidContentLength),
    MalformedCase("Content-Length overflowing 64 bits", .requests,
                  requestWith("Content-Length: 99999999999999999999\r\n"), .invalidContentLength),
    MalformedCase("Content-Length list with an empty element", .requests, requestWith("Content-Length: 5,\r\n"),
                  .invalidContentLength),
    MalformedCase("hexadecimal Content-Length", .requests, requestWith("Content-Length: 0x10\r\n"),
                  .invalidContentLength),
    MalformedCase("Content-Length with inner space", .requests, requestWith("Content-Length: 1 0\r\n"),
                  .invalidContentLength),
    MalformedCase("Transfer-Encoding gzip alone", .requests, requestWith("Transfer-Encoding: gzip\r\n"),
                  .unsupportedTransferCoding),
    MalformedCase("Transfer-Encoding with chunked not last", .requests,
                  requestWith("Transfer-Encoding: chunked, gzip\r\n"), .unsupportedTransferCoding),
    MalformedCase("gzip beneath chunked: it would reach the upstream unannounced", .requests,
                  requestWith("Transfer-Encoding: gzip, chunked\r\n"), .unsupportedTransferCoding),
    MalformedCase("deflate beneath chunked, in a field of its own", .requests,
                  requestWith("Transfer-Encoding: deflate\r\nTransfer-Encoding: chunked\r\n"),
                  .unsupportedTransferCoding),
    MalformedCase("empty Transfer-Encoding", .requests, requestWith("Transfer-Encoding: \r\n"), .chunkedNotFinal),
    MalformedCase("chunked applied twice in one field", .requests,
                  requestWith("Transfer-Encoding: chunked, chunked\r\n"), .chunkedAppliedTwice),
    MalformedCase("chunked applied twice across fields", .requests,
                  requestWith("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), .chunkedAppliedTwice),
    MalformedCase("unknown transfer coding", .requests, requestWith("Transfer-Encoding: foo, chunked\r\n"),
                  .unsupportedTransferCoding),
    MalformedCase("identity transfer coding", .requests, requestWith("Transfer-Encoding: identity\r\n"),
                  .unsupportedTransferCoding),
    MalformedCase("chunked with a parameter", .requests, requestWith("Transfer-Encoding: chunked;x=1\r\n"),
                  .unsupportedTransferCoding),
    MalformedCase("Transfer-Encoding in HTTP/1.0", .requests,
                  "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", .transferEncodingInHTTP10),

    // Field lines (RFC 9112 section 5, RFC 9110 section 5.5).
    MalformedCase("space before colon", .requests, requestWith("Content-Length : 0\r\n"), .whitespaceBeforeColon),
    MalformedCase("tab before colon", .requests, requestWith("X-A\t: 1\r\n"), .whitespaceBeforeColon),
    MalformedCase("obsolete line folding", .requests, requestWith("X-A: 1\r\n  continued\r\n"), .obsoleteLineFolding),
    MalformedCase("folding with a tab", .requests, requestWith("X-A: 1\r\n\tcontinued\r\n"), .obsoleteLineFolding),
    MalformedCase("whitespace after the request line", .requests, "GET / HTTP/1.1\r\n Host: a\r\n\r\n",
                  .whitespaceAfterStartLine),
    MalformedCase("NUL in a value", .requests, requestWith("X-A: a\u{0}b\r\n"), .invalidHeaderValue),
    MalformedCase("bare CR in a value", .requests, requestWith("X-A: a\rb\r\n"), .invalidHeaderValue),
    MalformedCase("DEL in a value", .requests, requestWith("X-A: a\u{7F}b\r\n"), .invalidHeaderValue),
    MalformedCase("escape byte in a value", .requests, requestWith("X-A: \u{1B}[31m\r\n"), .invalidHeaderValue),
    MalformedCase("control byte in a name", .requests, requestWith("X\u{1}A: 1\r\n"), .invalidHeaderName),
    MalformedCase("space inside a name", .requests, requestWith("X A: 1\r\n"), .invalidHeaderName),
    MalformedCase("empty name", .requests, requestWith(": 1\r\n"), .invalidHeaderName),
    MalformedCase("non-ASCII name", .requests, requestWith("Zoë: 1\r\n"), .invalidHeaderName),
    MalformedCase("bare CR in a name", .requests, requestWith("X\rA: 1\r\n"), .invalidHeaderName),
    MalformedCase("line without colon", .requests, requestWith("NoColonHere\r\n"), .missingColon),

    // Line endings (RFC 9112 section 2.2).
    MalformedCase("bare LF after a field", .requests, "GET / HTTP/1.1\r\nHost: a\n\r\n", .bareLineFeed),
    MalformedCase("bare LF after the request line", .requests, "GET / HTTP/1.1\nHost: a\r\n\r\n", .bareLineFeed),
    MalformedCase("bare LF ending the head", .requests, "GET / HTTP/1.1\r\nHost: a\r\n\n", .bareLineFeed),
    MalformedCase("LF only everywhere", .requests, "GET / HTTP/1.1\nHost: a\n\n", .bareLineFeed),

    // Chunked coding (RFC 9112 section 7.1).
    MalformedCase("chunk size with 0x", .requests, chunked("0x10\r\n"), .invalidChunkSize),
    MalformedCase("negative chunk size", .requests, chunked("-1\r\n"), .invalidChunkSize),
    MalformedCase("chunk size overflowing 63 bits", .requests, chunked("FFFFFFFFFFFFFFFFF\r\n"), .invalidChunkSize),
    MalformedCase("chunk size just past Int.max", .requests, chunked("8000000000000000\r\n"), .invalidChunkSize),
    MalformedCase("space before chunk size", .requests, chunked(" 5\r\nhello\r\n0\r\n\r\n"), .invalidChunkSize),
    MalformedCase("space after chunk size", .requests, chunked("5 \r\nhello\r\n0\r\n\r\n"), .invalidChunkSize),
    MalformedCase("space inside chunk size", .requests, chunked("1 0\r\n"), .invalidChunkSize),
    MalformedCase("empty chunk size", .requests, chunked("\r\nhello\r\n"), .invalidChunkSize),
    MalformedCase("chunk size with a plus sign", .requests, chunked("+5\r\nhello\r\n"), .invalidChunkSize),
    MalformedCase("chunk data longer than its size", .requests, chunked("5\r\nhelloX\r\n0\r\n\r\n"),
                  .missingChunkDataTerminator),
    MalformedCase("chunk data ended by LF only", .requests, chunked("5\r\nhello\n0\r\n\r\n"),
                  .missingChunkDataTerminator),
    MalformedCase("chunk data ended by CR and something else", .requests, chunked("5\r\nhello\rX0\r\n\r\n"),
                  .missingChunkDataTerminator),
    MalformedCase("chunk extension without a name", .requests, chunked("5;=x\r\nhello\r\n0\r\n\r\n"),
                  .invalidChunkExtension),
    MalformedCase("unterminated quoted chunk extension", .requests, chunked("5;a=\"x\r\nhello\r\n0\r\n\r\n"),
                  .invalidChunkExtension),
    MalformedCase("control byte in a chunk extension", .requests, chunked("5;a\u{1}\r\nhello\r\n0\r\n\r\n"),
                  .invalidChunkExtension),
    MalformedCase("bare LF after a chunk size", .requests, chunked("5\nhello\r\n0\r\n\r\n"), .bareLineFeed),
    MalformedCase("folded trailer", .requests, chunked("0\r\nX-T: 1\r\n more\r\n\r\n"), .obsoleteLineFolding),
    MalformedCase("bare LF in trailers", .requests, chunked("0\r\nX-T: 1\n\r\n"), .bareLineFeed),
    MalformedCase("NUL in a trailer", .requests, chunked("0\r\nX-T: \u{0}\r\n\r\n"), .invalidHeaderValue),

    // Request line (RFC 9112 section 3).
    MalformedCase("target without a leading slash", .requests, "GET foo HTTP/1.1\r\nHost: a\r\n\r\n",
                  .invalidRequestTarget),
    MalformedCase("target with a fragment", .requests, "GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n",
                  .invalidRequestTarget),
    MalformedCase("target with a non-ASCII byte", .requests, "GET /caf\u{E9} HTTP/1.1\r\nHost: a\r\n\r\n",
                  .invalidRequestTarget),
    MalformedCase("target with a tab", .requests, "GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", .invalidRequestTarget),
    MalformedCase("target with a space", .requests, "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", .invalidRequestTarget),
    MalformedCase("target with NUL", .requests, "GET /a\u{0} HTTP/1.1\r\nHost: a\r\n\r\n", .invalidRequestTarget),
    MalformedCase("asterisk target for GET", .requests, "GET * HTTP/1.1\r\nHost: a\r\n\r\n", .invalidRequestTarget),
    MalformedCase("authority-form target", .requests, "CONNECT example.com:443 HTTP/1.1\r\nHost: a\r\n\r\n",
                  .invalidRequestTarget),
    MalformedCase("two spaces after the method", .requests, "GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
                  .invalidRequestTarget),
    MalformedCase("method with a parenthesis", .requests, "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", .invalidMethod),
    MalformedCase("empty method", .requests, " / HTTP/1.1\r\nHost: a\r\n\r\n", .invalidMethod),
    MalformedCase("method with a tab", .requests, "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", .invalidMethod),
    MalformedCase("lower case version", .requests, "GET / http/1.1\r\nHost: a\r\n\r\n", .invalidVersion),
    MalformedCase("version with trailing space", .requests, "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", .invalidVersion),
    MalformedCase("version with three digits", .requests, "GET / HTTP/1.10\r\nHost: a\r\n\r\n", .invalidVersion),
    MalformedCase("HTTP/2.0 request line", .requests, "GET / HTTP/2.0\r\nHost: a\r\n\r\n", .unsupportedVersion),
    MalformedCase("HTTP/1.2 request line", .requests, "GET / HTTP/1.2\r\nHost: a\r\n\r\n", .unsupportedVersion),
    MalformedCase("HTTP/0.9 style request", .requests, "GET /\r\n\r\n", .invalidRequestLine),
    MalformedCase("method alone", .requests, "GET\r\nHost: a\r\n\r\n", .invalidRequestLine),

    // Host (RFC 9112 section 3.2).
    MalformedCase("HTTP/1.1 without Host", .requests, "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", .missingHost),
    MalformedCase("two Host fields", .requests, "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", .duplicateHost),
    MalformedCase("two Host fields in HTTP/1.0", .requests, "GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n",
                  .duplicateHost),
    MalformedCase("Host with a space", .requests, "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", .invalidHost),
    MalformedCase("Host with a path", .requests, "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", .invalidHost),
    MalformedCase("Host with userinfo", .requests, "GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", .invalidHost),

    // Status line (RFC 9112 section 4, RFC 9110 section 15).
    MalformedCase("two-digit status", get, "HTTP/1.1 20 OK\r\n\r\n", .invalidStatusLine),
    MalformedCase("four-digit status", get, "HTTP/1.1 2000 OK\r\n\r\n", .invalidStatusLine),
    MalformedCase("status with letters", get, "HTTP/1.1 2x0 OK\r\n\r\n", .invalidStatusLine),
    MalformedCase("status below 100", get, "HTTP/1.1 099 Low\r\n\r\n", .invalidStatusLine),
    MalformedCase("status above 599", get, "HTTP/1.1 600 High\r\n\r\n", .invalidStatusLine),
    MalformedCase("two spaces before the status", get, "HTTP/1.1  200 OK\r\n\r\n", .invalidStatusLine),
    MalformedCase("control byte in the reason", get, "HTTP/1.1 200 O\u{1}K\r\n\r\n", .invalidStatusLine),
    MalformedCase("status line without a status", get, "HTTP/1.1\r\n\r\n", .invalidStatusLine),
    MalformedCase("HTTP/2 status line", get, "HTTP/2 200 OK\r\n\r\n", .invalidVersion),
    MalformedCase("ICY status line", get, "ICY 200 OK\r\n\r\n", .invalidVersion),
    MalformedCase("HTTP/2.0 status line", get, "HTTP/2.0 200 OK\r\n\r\n", .unsupportedVersion),

    // Response framing.
    MalformedCase("response with Content-Length and Transfer-Encoding", get,
                  "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
                  .contentLengthWithTransferEncoding),
    MalformedCase("response with chunked not last", get, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
                  .unsupportedTransferCoding),
    MalformedCase("response with gzip beneath chunked", get,
                  "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", .unsupportedTransferCoding),
    MalformedCase("response with differing Content-Length", get,
                  "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", .conflictingContentLength),
    MalformedCase("response with bare LF", get, "HTTP/1.1 200 OK\nContent-Length: 0\n\n", .bareLineFeed),
    MalformedCase("response with folded field", get, "HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\nContent-Length: 0\r\n\r\n",
                  .obsoleteLineFolding),
    MalformedCase("response cut short inside a Content-Length body", get,
                  "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", .incompleteMessage),
    MalformedCase("response cut short inside a chunked body", get,
                  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", .incompleteMessage),
    MalformedCase("response cut short inside the head", get, "HTTP/1.1 200 OK\r\nContent-", .incompleteMessage),
    MalformedCase("invalid UTF-8 is fine but a bad chunk size is not", get,
                  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", .invalidChunkSize),
]

@Suite("Malformed messages are rejected with the rule they break")
struct MalformedMessageTests {
    @Test("a malformed message breaks the named rule", arguments: malformedCases)
    func breaksNamedRule(_ testCase: MalformedCase) {
        let whole = testCase.run(Splitting.whole(testCase.wire))
        #expect(whole.brokenRule == testCase.rule)
    }

    @Test("the rule is the same byte by byte and split anywhere", arguments: malformedCases)
    func sameRuleWhenSplit(_ testCase: MalformedCase) {
        #expect(testCase.run(Splitting.byteAtATime(testCase.wire)).brokenRule == testCase.rule)
        for pieces in Splitting.everyTwoWaySplit(testCase.wire) {
            #expect(testCase.run(pieces).brokenRule == testCase.rule, "split at \(pieces[0].count)")
        }
    }

    @Test("after an error the parser throws the same error again")
    func deadAfterError() throws {
        var parser = HTTPRequestParser()
        let bad = Array("GET / HTTP/1.1\r\nHost: a\r\nX A: 1\r\n\r\n".utf8)
        let good = Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8)
        var first: HTTPParseError?
        do {
            _ = try parser.parse(bad)
        } catch {
            first = error
        }
        #expect(first?.rule == .invalidHeaderName)
        var events = 0
        #expect(throws: first!) {
            _ = try parser.parse(good) { _ in
                events += 1
                return .proceed
            }
        }
        #expect(events == 0)
        #expect(!parser.isIdle)
    }

    @Test("suggested statuses follow the rule")
    func suggestedStatuses() {
        #expect(HTTPParseError(.requestLineTooLong, "").suggestedStatus == 414)
        #expect(HTTPParseError(.headTooLarge, "").suggestedStatus == 431)
        #expect(HTTPParseError(.tooManyHeaders, "").suggestedStatus == 431)
        #expect(HTTPParseError(.lineTooLong, "").suggestedStatus == 431)
        #expect(HTTPParseError(.unsupportedTransferCoding, "").suggestedStatus == 501)
        #expect(HTTPParseError(.unsupportedVersion, "").suggestedStatus == 505)
        #expect(HTTPParseError(.contentLengthWithTransferEncoding, "").suggestedStatus == 400)
    }

    @Test("error details never repeat field values")
    func detailsHideValues() {
        let secret = "Bearer s3cr3t-token"
        let wire = Array("GET / HTTP/1.1\r\nHost: a\r\nAuthorization: \(secret)\u{0}\r\n\r\n".utf8)
        var parser = HTTPRequestParser()
        do {
            _ = try parser.parse(wire)
            Issue.record("expected an error")
        } catch {
            #expect(error.rule == .invalidHeaderValue)
            #expect(!error.description.contains("s3cr3t"))
        }
    }
}
