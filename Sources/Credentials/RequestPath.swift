/// The path of a request target in the form scopes are matched against.
///
/// Upstream servers decode percent escapes, drop `;parameters` from segments (Tomcat, which runs
/// TOPdesk, does) and resolve `.` and `..`. A scope check that compared raw bytes could be walked
/// around: `GET:/tas/api/incidents` would "match" `/tas/api/incidents/%2e%2e/operators` or
/// `/tas/api/incidents/..;/operators`, which the upstream serves as `/tas/api/operators`.
///
/// So the path is decoded the way the upstream reads it, and anything whose meaning could differ
/// between us and the upstream is refused rather than guessed:
/// - the query (`?...`) is ignored; a fragment (`#`) or a target not starting with `/` is refused;
/// - each segment loses its `;parameters`, then is percent-decoded once;
/// - a segment that decodes to `.` or `..` is refused, whether written plainly or as `%2e`;
/// - a segment that decodes to contain `/`, `\`, `%` (double encoding), a control byte or a bad
///   escape is refused;
/// - empty segments (`//`) are merged, as nginx and Tomcat do.
///
/// Refusing dot segments costs nothing real: HTTP clients remove them before sending
/// (RFC 3986, section 5.2.4), so only crafted requests carry them.
public enum RequestPath {
    /// The normalized path bytes, or nil when the target must be refused (see the type's notes).
    public static func normalizedForMatching(_ target: String) -> [UInt8]? {
        withNormalizedPath(target) { Array($0) }
    }

    /// Calls `body` with the normalized path without allocating when the path needs no decoding
    /// (the common case); nil when the target must be refused.
    @inlinable  // specialized where it is called: generic, it spends more on metadata than on the path
    public static func withNormalizedPath<Result>(
        _ target: String, _ body: (UnsafeBufferPointer<UInt8>) -> Result
    ) -> Result? {
        var target = target
        return target.withUTF8 { bytes -> Result? in
            let end = pathEnd(bytes)
            let path = UnsafeBufferPointer(rebasing: bytes[..<end])
            if (end == bytes.count || bytes[end] == UInt8(ascii: "?")) && isPlain(path) {
                return body(path)
            }
            // Decoding only shrinks a segment and each keeps the one slash it had, so the result
            // never outgrows the path: it is decoded into scratch room of that size (on the stack
            // for the usual lengths).
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(end, 1)) { room -> Result? in
                guard let count = normalize(UnsafeRawBufferPointer(bytes), into: room) else { return nil }
                return body(UnsafeBufferPointer(rebasing: room[..<count]))
            }
        }
    }

    /// Where the path ends: at `?`, `#` or the end of the target.
    @usableFromInline
    static func pathEnd(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        bytes.firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? bytes.count
    }

    /// True when the path is already in normal form: starts with `/`, and has no byte that could
    /// need decoding or refusal, and no empty segment.
    @usableFromInline
    static func isPlain(_ path: UnsafeBufferPointer<UInt8>) -> Bool {
        guard path.first == UInt8(ascii: "/") else {
            return false
        }
        var previous: UInt8 = 0
        for byte in path {
            switch byte {
            case UInt8(ascii: "%"), UInt8(ascii: "."), UInt8(ascii: ";"), UInt8(ascii: "\\"), UInt8(ascii: "#"):
                return false
            case UInt8(ascii: "/") where previous == UInt8(ascii: "/"):
                return false
            case 0..<0x21, 0x7F...:
                return false
            default:
                previous = byte
            }
        }
        return true
    }

    /// Writes the normalized path into `room`, which holds at least the path's length (up to `?`
    /// or `#`); returns how many bytes, or nil when the target must be refused.
    @usableFromInline
    static func normalize(_ target: UnsafeRawBufferPointer, into room: UnsafeMutableBufferPointer<UInt8>) -> Int? {
        let bytes = target.bindMemory(to: UInt8.self)
        let end = pathEnd(bytes)
        if end < bytes.count, bytes[end] == UInt8(ascii: "#") {
            return nil
        }
        guard end > 0, bytes[0] == UInt8(ascii: "/") else {
            return nil
        }
        precondition(room.count >= end, "RequestPath: room shorter than the path")
        var output = 0
        var segmentStart = 1
        while segmentStart <= end {
            var segmentEnd = segmentStart
            while segmentEnd < end, bytes[segmentEnd] != UInt8(ascii: "/") {
                segmentEnd += 1
            }
            let isLast = segmentEnd >= end
            let raw = UnsafeBufferPointer(rebasing: bytes[segmentStart..<segmentEnd])
            let slash = output
            room[output] = UInt8(ascii: "/")
            output += 1
            guard appendDecodedSegment(raw, to: room, at: &output) else {
                return nil
            }
            if output == slash + 1 {
                // An empty segment is merged with the next, but a trailing slash is meaningful
                // ("/tas/api/" differs from "/tas/api"): keep that one.
                if !isLast { output -= 1 }
            }
            segmentStart = segmentEnd + 1
        }
        return output
    }

    /// Writes one segment without its `;parameters`, percent-decoded, at `room[output...]`; false
    /// when it must be refused (what was written is then of no use). The room holds at least the
    /// raw segment's length.
    private static func appendDecodedSegment(
        _ raw: UnsafeBufferPointer<UInt8>, to room: UnsafeMutableBufferPointer<UInt8>, at output: inout Int
    ) -> Bool {
        let withoutParameters = raw.firstIndex(of: UInt8(ascii: ";")).map { raw[..<$0] } ?? raw[...]
        let start = output
        var index = withoutParameters.startIndex
        while index < withoutParameters.endIndex {
            var byte = withoutParameters[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < withoutParameters.endIndex,
                      let high = hexValue(withoutParameters[index + 1]),
                      let low = hexValue(withoutParameters[index + 2]) else {
                    return false
                }
                byte = high << 4 | low
                index += 3
            } else {
                index += 1
            }
            switch byte {
            case UInt8(ascii: "/"), UInt8(ascii: "\\"), UInt8(ascii: "%"), 0..<0x20, 0x7F:
                return false
            default:
                room[output] = byte
                output += 1
            }
        }
        let count = output - start
        let dot = UInt8(ascii: ".")
        if count == 1 && room[start] == dot || count == 2 && room[start] == dot && room[start + 1] == dot {
            return false
        }
        return true
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"):
            return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"):
            return byte - UInt8(ascii: "A") + 10
        default:
            return nil
        }
    }
}
