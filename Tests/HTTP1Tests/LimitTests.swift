import HTTP1
import Testing

/// Each limit is hit exactly: a message at the limit parses, one byte or field more fails. Both
/// are checked whole and byte at a time, since the limits are enforced on partial input too.
@Suite("Limits at their boundaries")
struct LimitTests {
    /// Parses the request whole and byte at a time; both must agree.
    func brokenRule(_ wire: String, _ limits: HTTPLimits) -> HTTPParseError.Rule? {
        let bytes = Array(wire.utf8)
        let whole = parseRequests([bytes], limits: limits)
        let bytewise = parseRequests(Splitting.byteAtATime(bytes), limits: limits)
        #expect(whole.brokenRule == bytewise.brokenRule)
        #expect(whole.messages == bytewise.messages)
        if whole.brokenRule == nil {
            #expect(whole.messages.count == 1 && whole.messages[0].ended, "the message should complete")
        }
        return whole.brokenRule
    }

    @Test("maxHeadBytes counts the whole head, final CRLF included")
    func headBytes() {
        let limits = HTTPLimits(maxHeadBytes: 100)
        // "GET / HTTP/1.1\r\n" (16) + "Host: a\r\n" (9) + "X: " (3) + padding + "\r\n\r\n" (4).
        let atLimit = "GET / HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "v", count: 68) + "\r\n\r\n"
        #expect(atLimit.utf8.count == 100)
        #expect(brokenRule(atLimit, limits) == nil)
        let overLimit = "GET / HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "v", count: 69) + "\r\n\r\n"
        #expect(brokenRule(overLimit, limits) == .headTooLarge)
        #expect(HTTPParseError(.headTooLarge, "").suggestedStatus == 431)
    }

    @Test("maxHeaderCount counts field lines")
    func headerCount() {
        let limits = HTTPLimits(maxHeaderCount: 5)
        func request(fields: Int) -> String {
            "GET / HTTP/1.1\r\nHost: a\r\n" + (1..<fields).map { "X-\($0): v\r\n" }.joined() + "\r\n"
        }
        #expect(brokenRule(request(fields: 5), limits) == nil)
        #expect(brokenRule(request(fields: 6), limits) == .tooManyHeaders)
    }

    @Test("maxLineLength bounds the request line, CRLF not counted")
    func requestLineLength() {
        let limits = HTTPLimits(maxLineLength: 40)
        // "GET " (4) + target + " HTTP/1.1" (9).
        let atLimit = "GET /" + String(repeating: "t", count: 26) + " HTTP/1.1\r\nHost: a\r\n\r\n"
        #expect(brokenRule(atLimit, limits) == nil)
        let overLimit = "GET /" + String(repeating: "t", count: 27) + " HTTP/1.1\r\nHost: a\r\n\r\n"
        #expect(brokenRule(overLimit, limits) == .requestLineTooLong)
        #expect(HTTPParseError(.requestLineTooLong, "").suggestedStatus == 414)
    }

    @Test("maxLineLength bounds each field line, CRLF not counted")
    func fieldLineLength() {
        let limits = HTTPLimits(maxLineLength: 40)
        let atLimit = "GET / HTTP/1.1\r\nHost: a\r\nX-Long: " + String(repeating: "v", count: 32) + "\r\n\r\n"
        #expect(brokenRule(atLimit, limits) == nil)
        let overLimit = "GET / HTTP/1.1\r\nHost: a\r\nX-Long: " + String(repeating: "v", count: 33) + "\r\n\r\n"
        #expect(brokenRule(overLimit, limits) == .lineTooLong)
    }

    @Test("maxChunkLineLength bounds a chunk-size line with its extensions")
    func chunkLineLength() {
        let limits = HTTPLimits(maxChunkLineLength: 20)
        let head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        // "1;" (2) + name.
        let atLimit = head + "1;" + String(repeating: "e", count: 18) + "\r\nx\r\n0\r\n\r\n"
        #expect(brokenRule(atLimit, limits) == nil)
        let overLimit = head + "1;" + String(repeating: "e", count: 19) + "\r\nx\r\n0\r\n\r\n"
        #expect(brokenRule(overLimit, limits) == .chunkLineTooLong)
    }

    @Test("maxTrailerBytes counts the trailer section, final CRLF included")
    func trailerBytes() {
        let limits = HTTPLimits(maxTrailerBytes: 30)
        let head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
        // "T: " (3) + value + "\r\n\r\n" (4).
        let atLimit = head + "T: " + String(repeating: "v", count: 23) + "\r\n\r\n"
        #expect(brokenRule(atLimit, limits) == nil)
        let overLimit = head + "T: " + String(repeating: "v", count: 24) + "\r\n\r\n"
        #expect(brokenRule(overLimit, limits) == .trailersTooLarge)
    }

    @Test("trailer fields count against maxHeaderCount")
    func trailerCount() {
        let limits = HTTPLimits(maxHeaderCount: 3)
        let head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
        #expect(brokenRule(head + "A: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits) == nil)
        #expect(brokenRule(head + "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", limits) == .tooManyHeaders)
    }

    @Test("an endless head is rejected before the buffer grows past the limit")
    func endlessHeadRejectedEarly() {
        var parser = HTTPRequestParser(limits: HTTPLimits(maxHeadBytes: 1024))
        var pending = Array("GET / HTTP/1.1\r\n".utf8)
        var rule: HTTPParseError.Rule?
        while rule == nil && pending.count < 4096 {
            pending += Array("X-Filler: abcdefgh\r\n".utf8)
            do {
                let consumed = try parser.parse(pending)
                #expect(consumed == 0)
            } catch {
                rule = error.rule
            }
        }
        #expect(rule == .headTooLarge)
        #expect(pending.count <= 1024 + 20)
    }

    @Test("defaults are the documented ones")
    func defaults() {
        let limits = HTTPLimits()
        #expect(limits.maxHeadBytes == 32 * 1024)
        #expect(limits.maxHeaderCount == 100)
        #expect(limits.maxLineLength == 8 * 1024)
        #expect(limits.maxChunkLineLength == 4 * 1024)
        #expect(limits.maxTrailerBytes == 16 * 1024)
    }
}
