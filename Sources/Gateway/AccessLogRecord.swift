import HTTP1
import Network
#if canImport(Glibc)
import Glibc
#endif

/// How a request ended, for the access log and metrics. One place names every way out.
public enum AccessLogTermination: String, Sendable, CaseIterable {
    /// The response went out in full.
    case ok
    /// The client went away before the response was complete.
    case clientAborted
    /// The gateway refused the request itself: malformed, too large, unsupported (4xx).
    case clientError
    /// No or wrong client credential (401).
    case unauthorized
    /// The credential's scopes do not allow this method or path (403).
    case forbidden
    /// The credential's rate limit (429).
    case rateLimited
    /// No legacy token: the account is unhealthy or its login failing (502/503).
    case tokenUnavailable
    /// The upstream rejected the token and the request could not be replayed, or was rejected again.
    case tokenRejected
    /// No connection to the upstream (connect or TLS failure).
    case upstreamConnectFailed
    /// The upstream did not answer in time.
    case upstreamTimeout
    /// The upstream closed early or broke the protocol.
    case upstreamError
    /// Refused or cut while shutting down.
    case shuttingDown
    /// A fault of the gateway itself.
    case gatewayError
}

/// One access log line: a JSON object on one line, written by hand (no Foundation on the request
/// path). Fields, in order: `time` (UTC, milliseconds), `requestId`, `remote` (client IP), `client`
/// (the credential's name, null before authentication), `account` (legacy account name or null),
/// `method`, `path`, `status`, `bytes` (response body bytes sent), `totalMs`, `tokenWaitMs`,
/// `upstreamMs` (milliseconds with microsecond precision), `retried`, `termination`.
///
/// `path` is the request path without the query string: queries may carry data (search terms,
/// external numbers, tokens pasted by careless clients) and the log needs none of it. No header is
/// ever logged, so no credential or token can be.
public struct AccessLogRecord: Sendable, Equatable {
    public var unixMilliseconds: Int64
    public var requestID: String
    public var remoteAddress: String
    public var client: String?
    public var account: String?
    public var method: String
    public var path: String
    public var status: Int
    public var bytes: Int
    public var total: Duration
    public var tokenWait: Duration
    public var upstream: Duration
    public var retried: Bool
    public var termination: AccessLogTermination

    public init(unixMilliseconds: Int64, requestID: String, remoteAddress: String, client: String?, account: String?,
                method: String, path: String, status: Int, bytes: Int, total: Duration, tokenWait: Duration = .zero,
                upstream: Duration = .zero, retried: Bool = false, termination: AccessLogTermination) {
        self.unixMilliseconds = unixMilliseconds
        self.requestID = requestID
        self.remoteAddress = remoteAddress
        self.client = client
        self.account = account
        self.method = method
        self.path = path
        self.status = status
        self.bytes = bytes
        self.total = total
        self.tokenWait = tokenWait
        self.upstream = upstream
        self.retried = retried
        self.termination = termination
    }

    /// Wall-clock milliseconds since 1970 (`CLOCK_REALTIME`), for `unixMilliseconds`.
    public static func currentUnixMilliseconds() -> Int64 {
        System.unixMilliseconds()
    }

    /// Longest path written; longer ones are cut (and marked with "...").
    public static let maximumPathLength = 1024

    /// The path of a request target without query or fragment; for an absolute-form target, its
    /// path. Cut at `maximumPathLength`. Works on the target's bytes: every delimiter is ASCII, and
    /// the common case (an origin-form path without a query) returns the target itself, uncopied.
    public static func path(ofTarget target: String) -> String {
        var bytesOfTarget = target
        let (start, end, count) = bytesOfTarget.withUTF8 { bytes -> (Int, Int, Int) in
            var start = 0
            if bytes.first != UInt8(ascii: "/"), let schemeEnd = bytes.firstRange(of: "://".utf8) {
                // Absolute form: the path starts at the first "/" or "?" after the authority.
                start = schemeEnd.upperBound
                while start < bytes.count, bytes[start] != UInt8(ascii: "/"), bytes[start] != UInt8(ascii: "?") {
                    start += 1
                }
            }
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: "?"), bytes[end] != UInt8(ascii: "#") { end += 1 }
            return (start, end, bytes.count)
        }
        if start == 0, end == count, count <= maximumPathLength { return target }
        let utf8 = target.utf8
        let cut = end - start > maximumPathLength
        let lower = utf8.index(utf8.startIndex, offsetBy: start)
        let upper = utf8.index(utf8.startIndex, offsetBy: cut ? start + maximumPathLength : end)
        let slice = utf8[lower..<upper]
        return cut ? String(decoding: slice, as: UTF8.self) + "..." : String(decoding: slice, as: UTF8.self)
    }

    /// Appends the JSON line, newline included.
    public func write(into buffer: inout [UInt8]) {
        var timestamps = TimestampCache()
        write(into: &buffer, timestamps: &timestamps)
    }

    /// Appends the JSON line, reusing the date and time of day formatted for an earlier line of
    /// the same second (a loop's batch keeps one cache for all its lines).
    func write(into buffer: inout [UInt8], timestamps: inout TimestampCache) {
        // Fixed text, numbers and timestamp fit in 400 bytes; a string escapes to six bytes a
        // byte at most, plus its quotes.
        var strings = requestID.utf8.count + remoteAddress.utf8.count + method.utf8.count + path.utf8.count
        strings += (client?.utf8.count ?? 0) + (account?.utf8.count ?? 0)
        buffer.appendWriting(atMost: 400 + 6 * strings) { writer in
            writer.append("{\"time\":\"")
            AccessLogRecord.appendTimestamp(unixMilliseconds, to: &writer, cache: &timestamps)
            writer.append("\",\"requestId\":")
            AccessLogRecord.appendJSONString(requestID, to: &writer)
            writer.append(",\"remote\":")
            AccessLogRecord.appendJSONString(remoteAddress, to: &writer)
            writer.append(",\"client\":")
            AccessLogRecord.appendOptional(client, to: &writer)
            writer.append(",\"account\":")
            AccessLogRecord.appendOptional(account, to: &writer)
            writer.append(",\"method\":")
            AccessLogRecord.appendJSONString(method, to: &writer)
            writer.append(",\"path\":")
            AccessLogRecord.appendJSONString(path, to: &writer)
            writer.append(",\"status\":")
            writer.append(decimal: status)
            writer.append(",\"bytes\":")
            writer.append(decimal: bytes)
            writer.append(",\"totalMs\":")
            AccessLogRecord.appendMilliseconds(total, to: &writer)
            writer.append(",\"tokenWaitMs\":")
            AccessLogRecord.appendMilliseconds(tokenWait, to: &writer)
            writer.append(",\"upstreamMs\":")
            AccessLogRecord.appendMilliseconds(upstream, to: &writer)
            writer.append(retried ? ",\"retried\":true,\"termination\":\"" : ",\"retried\":false,\"termination\":\"")
            writer.append(utf8: termination.rawValue)
            writer.append("\"}\n")
        }
    }

    /// The line as a string, newline included.
    public var jsonLine: String {
        var buffer: [UInt8] = []
        write(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    // MARK: Encoding

    /// Appends `value` as a JSON string (RFC 8259 section 7): quote, backslash and control
    /// characters escaped (DEL too), U+2028 and U+2029 escaped for consumers that treat them as line
    /// ends, every other character as UTF-8.
    public static func appendJSONString(_ value: String, to buffer: inout [UInt8]) {
        buffer.appendWriting(atMost: 6 * value.utf8.count + 2) { appendJSONString(value, to: &$0) }
    }

    /// The same into a writer with room for `6 * value.utf8.count + 2` bytes.
    static func appendJSONString(_ value: String, to writer: inout ByteWriter) {
        var value = value
        value.withUTF8 { appendJSONString(bytes: $0, to: &writer) }
    }

    /// Whether a byte never needs escaping, and cannot start U+2028 or U+2029 (E2 80 A8/A9).
    @inline(__always)
    private static func passesUnescaped(_ byte: UInt8) -> Bool {
        byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") && byte != 0x7F && byte != 0xE2
    }

    /// Whether any of the eight bytes at `offset` fails `passesUnescaped`, tested on the word at
    /// once: a byte below 0x20 borrows into a high bit it did not have, and a byte equal to one
    /// of the others leaves a zero byte after the exclusive or, found the same way.
    @inline(__always)
    private static func mayNeedEscaping(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        let word = bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        let ones: UInt64 = 0x0101_0101_0101_0101, highBits: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func hasZeroByte(_ value: UInt64) -> Bool { (value &- ones) & ~value & highBits != 0 }
        return (word &- ones &* 0x20) & ~word & highBits != 0
            || hasZeroByte(word ^ (ones &* 0x22)) || hasZeroByte(word ^ (ones &* 0x5C))
            || hasZeroByte(word ^ (ones &* 0x7F)) || hasZeroByte(word ^ (ones &* 0xE2))
    }

    private static func appendJSONString(bytes: UnsafeBufferPointer<UInt8>, to writer: inout ByteWriter) {
        writer.append(UInt8(ascii: "\""))
        var index = 0
        while index < bytes.count {
            // Copy the run of bytes that need nothing in one go; most strings are a single run.
            var runEnd = index
            while bytes.count - runEnd >= 8, !mayNeedEscaping(UnsafeRawBufferPointer(bytes), at: runEnd) { runEnd += 8 }
            while runEnd < bytes.count, passesUnescaped(bytes[runEnd]) { runEnd += 1 }
            if runEnd > index {
                writer.append(UnsafeBufferPointer(rebasing: bytes[index..<runEnd]))
                index = runEnd
                if index == bytes.count { break }
            }
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""): writer.append("\\\"")
            case UInt8(ascii: "\\"): writer.append("\\\\")
            case 0x0A: writer.append("\\n")
            case 0x0D: writer.append("\\r")
            case 0x09: writer.append("\\t")
            case 0x00..<0x20, 0x7F: appendUnicodeEscape(UInt16(byte), to: &writer)
            default:
                // 0xE2: U+2028 and U+2029 are E2 80 A8 and E2 80 A9 in UTF-8.
                if index + 2 < bytes.count, bytes[index + 1] == 0x80,
                   bytes[index + 2] == 0xA8 || bytes[index + 2] == 0xA9 {
                    appendUnicodeEscape(bytes[index + 2] == 0xA8 ? 0x2028 : 0x2029, to: &writer)
                    index += 3
                    continue
                }
                writer.append(byte)
            }
            index += 1
        }
        writer.append(UInt8(ascii: "\""))
    }

    private static func appendUnicodeEscape(_ code: UInt16, to writer: inout ByteWriter) {
        writer.append("\\u")
        for shift in stride(from: 12, through: 0, by: -4) {
            writer.append(hexDigit(UInt8((code >> UInt16(shift)) & 0xF)))
        }
    }

    @inline(__always)
    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    /// Milliseconds with three decimals ("12.345"), never negative.
    static func appendMilliseconds(_ duration: Duration, to writer: inout ByteWriter) {
        let (seconds, attoseconds) = duration.components
        let microseconds = max(0, seconds * 1_000_000 + attoseconds / 1_000_000_000_000)
        writer.append(decimal: Int(microseconds / 1000))
        writer.append(UInt8(ascii: "."))
        writer.append(decimal: Int(microseconds % 1000), width: 3)
    }

    /// "2024-05-01T12:34:56." of the second last formatted.
    struct TimestampCache {
        var second = Int64.min
        var prefix: [UInt8] = []
    }

    /// RFC 3339 UTC with milliseconds: 2024-05-01T12:34:56.789Z.
    static func appendTimestamp(_ unixMilliseconds: Int64, to buffer: inout [UInt8]) {
        var cache = TimestampCache()
        appendTimestamp(unixMilliseconds, to: &buffer, cache: &cache)
    }

    static func appendTimestamp(_ unixMilliseconds: Int64, to buffer: inout [UInt8], cache: inout TimestampCache) {
        buffer.appendWriting(atMost: timestampBound) { appendTimestamp(unixMilliseconds, to: &$0, cache: &cache) }
    }

    /// A year of up to 19 digits and a sign, and the rest of `-MM-DDTHH:MM:SS.mmmZ`.
    private static let timestampBound = 20 + 20

    private static func appendTimestamp(
        _ unixMilliseconds: Int64, to writer: inout ByteWriter, cache: inout TimestampCache
    ) {
        let milliseconds = unixMilliseconds.modulo(1000)
        let totalSeconds = (unixMilliseconds - milliseconds) / 1000
        if cache.second != totalSeconds {
            cache.second = totalSeconds
            cache.prefix.removeAll(keepingCapacity: true)
            cache.prefix.appendWriting(atMost: timestampBound) { appendDateAndTime(ofSecond: totalSeconds, to: &$0) }
        }
        cache.prefix.withUnsafeBytes { writer.append($0) }
        writer.append(decimal: Int(milliseconds), width: 3)
        writer.append(UInt8(ascii: "Z"))
    }

    /// "2024-05-01T12:34:56." for a count of seconds since 1970.
    private static func appendDateAndTime(ofSecond totalSeconds: Int64, to writer: inout ByteWriter) {
        let secondsOfDay = Int(totalSeconds.modulo(86_400))
        let days = (totalSeconds - Int64(secondsOfDay)) / 86_400
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        writer.append(decimal: Int(year), width: 4)
        writer.append(UInt8(ascii: "-"))
        writer.append(decimal: Int(month), width: 2)
        writer.append(UInt8(ascii: "-"))
        writer.append(decimal: Int(day), width: 2)
        writer.append(UInt8(ascii: "T"))
        writer.append(decimal: secondsOfDay / 3600, width: 2)
        writer.append(UInt8(ascii: ":"))
        writer.append(decimal: secondsOfDay % 3600 / 60, width: 2)
        writer.append(UInt8(ascii: ":"))
        writer.append(decimal: secondsOfDay % 60, width: 2)
        writer.append(UInt8(ascii: "."))
    }

    /// Proleptic Gregorian date of a day count since 1970-01-01 (the well-known era-based method:
    /// 400-year eras of 146097 days, years starting in March so the leap day comes last).
    static func civilDate(daysSinceEpoch days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func appendOptional(_ value: String?, to writer: inout ByteWriter) {
        if let value {
            appendJSONString(value, to: &writer)
        } else {
            writer.append("null")
        }
    }
}

extension Int64 {
    fileprivate func modulo(_ divisor: Int64) -> Int64 {
        let remainder = self % divisor
        return remainder < 0 ? remainder + divisor : remainder
    }
}
