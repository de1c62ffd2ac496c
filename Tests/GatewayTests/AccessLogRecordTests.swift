import Foundation
import HTTP1
import Testing
@testable import Gateway

@Suite("Access log")
struct AccessLogRecordTests {
    static func record(path: String = "/tas/api/incidents", method: String = "GET") -> AccessLogRecord {
        AccessLogRecord(unixMilliseconds: 1_714_566_896_789, requestID: "req-1", remoteAddress: "192.0.2.7",
                        client: "integration-a", account: "api", method: method, path: path, status: 206,
                        bytes: 1234, total: .microseconds(12_345), tokenWait: .microseconds(7),
                        upstream: .milliseconds(10), retried: true, termination: .ok)
    }

    @Test("A record is one JSON line with every field in order")
    func line() {
        #expect(Self.record().jsonLine == """
            {"time":"2024-05-01T12:34:56.789Z","requestId":"req-1","remote":"192.0.2.7","client":"integration-a",\
            "account":"api","method":"GET","path":"/tas/api/incidents","status":206,"bytes":1234,"totalMs":12.345,\
            "tokenWaitMs":0.007,"upstreamMs":10.000,"retried":true,"termination":"ok"}

            """)
    }

    @Test("Absent client and account are null")
    func nulls() {
        var record = Self.record()
        record.client = nil
        record.account = nil
        record.termination = .unauthorized
        #expect(record.jsonLine.contains("\"client\":null,\"account\":null"))
        #expect(record.jsonLine.contains("\"termination\":\"unauthorized\""))
    }

    @Test("Strings are escaped: quotes, backslashes, control characters, DEL, line separators; other text stays UTF-8")
    func escaping() throws {
        let nasty = "a\"b\\c\n\r\t\u{0}\u{1F}\u{7F}é日本😀\u{2028}\u{2029}/"
        var buffer: [UInt8] = []
        AccessLogRecord.appendJSONString(nasty, to: &buffer)
        let encoded = String(decoding: buffer, as: UTF8.self)
        #expect(encoded == #""a\"b\\c\n\r\t\u0000\u001f\u007fé日本😀\u2028\u2029/""#)

        let line = Self.record(path: nasty, method: "GE\"T").jsonLine
        #expect(line.utf8.filter { $0 == 0x0A }.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["path"] as? String == nasty)
        #expect(object["method"] as? String == "GE\"T")
        #expect(object["status"] as? Int == 206)
    }

    @Test("Timestamps are RFC 3339 UTC, across leap days and before 1970")
    func timestamps() {
        func format(_ milliseconds: Int64) -> String {
            var buffer: [UInt8] = []
            AccessLogRecord.appendTimestamp(milliseconds, to: &buffer)
            return String(decoding: buffer, as: UTF8.self)
        }
        #expect(format(0) == "1970-01-01T00:00:00.000Z")
        #expect(format(951_782_400_000) == "2000-02-29T00:00:00.000Z")
        #expect(format(4_107_542_399_999) == "2100-02-28T23:59:59.999Z")
        #expect(format(-1) == "1969-12-31T23:59:59.999Z")
        #expect(format(1_709_251_199_000) == "2024-02-29T23:59:59.000Z")

        // One cache across many lines (as a loop's batch keeps it) formats each exactly as a fresh
        // one: within a second, across seconds and days, and when the clock steps back.
        var cache = AccessLogRecord.TimestampCache()
        for milliseconds: Int64 in [1_709_251_199_000, 1_709_251_199_998, 1_709_251_200_001, 1_709_251_199_500,
                                    -1, 0, 86_399_999, 86_400_000, 86_400_000, 1_714_566_896_789] {
            var buffer: [UInt8] = []
            AccessLogRecord.appendTimestamp(milliseconds, to: &buffer, cache: &cache)
            #expect(String(decoding: buffer, as: UTF8.self) == format(milliseconds), "\(milliseconds)")
        }
    }

    @Test("The path is logged without query or fragment, and long paths are cut",
          arguments: [("/tas/api/incidents?token=abc&q=secret", "/tas/api/incidents"),
                      ("/tas/api/incidents/number/I%201602%20001", "/tas/api/incidents/number/I%201602%20001"),
                      ("https://gw/tas/api/x?y", "/tas/api/x"), ("/a#frag", "/a"), ("*", "*")])
    func paths(_ target: String, _ expected: String) {
        #expect(AccessLogRecord.path(ofTarget: target) == expected)
    }

    @Test("The current wall-clock time is in milliseconds since 1970")
    func currentTime() {
        let now = AccessLogRecord.currentUnixMilliseconds()
        let foundation = Int64(Date().timeIntervalSince1970 * 1000)
        #expect(abs(now - foundation) < 5000)
    }

    @Test("Long paths are cut at the limit")
    func longPath() {
        let path = AccessLogRecord.path(ofTarget: "/" + String(repeating: "x", count: 5000))
        #expect(path.utf8.count == AccessLogRecord.maximumPathLength + 3)
    }

    @Test("A token or credential in the request never reaches the log line")
    func noSecrets() throws {
        let token = "0f83ee44-5ff7-462f-9cf5-855c455a4bca"
        let head = HTTPRequestHead(method: "GET", target: "/tas/api/incidents?token=\(token)&key=key-123",
                                   headers: HTTPHeaders([("Authorization", "TOKEN id=\"\(token)\""),
                                                         ("X-API-Key", "key-123"), ("Cookie", "s=\(token)"),
                                                         ("X-Request-ID", token + " evil")]))
        let requestID = HeaderRewriter.requestID(for: head.headers, generate: { "generated" })
        let record = AccessLogRecord(unixMilliseconds: 0, requestID: requestID, remoteAddress: "::1",
                                     client: "c", account: "a", method: head.method,
                                     path: AccessLogRecord.path(ofTarget: head.target), status: 200, bytes: 0,
                                     total: .zero, termination: .ok)
        let line = record.jsonLine
        #expect(!line.contains(token))
        #expect(!line.contains("key-123"))
        #expect(line.contains("\"requestId\":\"generated\""))
    }
}
