/// Finds where a section of CRLF-terminated lines ends (a head, a trailer section, a chunk-size
/// line) and enforces the size limits while doing so.
///
/// The bytes of an incomplete section are not consumed: the caller hands them back with more
/// appended. The scanner remembers, relative to the section's first byte, how far it looked, so
/// input arriving a byte at a time is scanned once overall.
///
/// Every check depends only on the bytes seen so far, and fires at the first byte that makes the
/// section certainly invalid. So a message split anywhere fails with the same rule as the message
/// in one piece.
struct SectionScanner: Sendable {
    enum Kind {
        /// A start line, field lines, an empty line.
        case head(startLineTooLong: HTTPParseError.Rule)
        /// Field lines, an empty line.
        case trailers
        /// One line.
        case chunkSizeLine
    }

    /// The section is complete: it ends at `end` (after the final LF) and holds `fieldLines`
    /// field lines.
    struct Section {
        var end: Int
        var fieldLines: Int
    }

    /// Offsets relative to the section's first byte.
    private var cursor = 0
    private var lineStart = 0
    private var lineIndex = 0

    /// True when nothing of a section has been seen.
    var isFresh: Bool { cursor == 0 }

    mutating func reset() {
        cursor = 0
        lineStart = 0
        lineIndex = 0
    }

    /// Scans bytes[sectionStart...] from where the last call stopped. Returns nil while the
    /// section is incomplete.
    mutating func scan(
        _ bytes: UnsafeRawBufferPointer, from sectionStart: Int, kind: Kind, limits: HTTPLimits
    ) throws(HTTPParseError) -> Section? {
        let end = bytes.count
        // A caller that handed back fewer bytes than before gets a fresh scan instead of a crash.
        if sectionStart + cursor > end { reset() }

        let maxSectionBytes: Int
        let firstFieldLine: Int
        switch kind {
        case .head:
            maxSectionBytes = limits.maxHeadBytes
            firstFieldLine = 1
        case .trailers:
            maxSectionBytes = limits.maxTrailerBytes
            firstFieldLine = 0
        case .chunkSizeLine:
            maxSectionBytes = Int.max
            firstFieldLine = 0
        }
        // The section is too large once its byte at this index has been seen.
        let sectionOverflow = saturatingSum(sectionStart, maxSectionBytes)

        var cursor = sectionStart + self.cursor
        var lineStart = sectionStart + self.lineStart
        var lineIndex = self.lineIndex
        while true {
            let lineFeed = bytes.firstLineFeed(from: cursor, to: end)
            let seenEnd = lineFeed ?? end

            // Checks a later byte cannot undo, ordered by the index of the byte that settles
            // them; at the same byte the line length is named.
            let maxLine = maxLineLength(kind: kind, lineIndex: lineIndex, limits: limits)
            let lineOverflow = saturatingSum(lineStart, maxLine, 1)  // content byte maxLine+1, not CR
            let lineFails = lineOverflow < seenEnd
            let sectionFails = sectionOverflow < seenEnd || (lineFeed != nil && sectionOverflow == seenEnd)
            if lineFails && (!sectionFails || lineOverflow <= sectionOverflow) {
                throw lineTooLongError(kind: kind, lineIndex: lineIndex)
            }
            if sectionFails {
                throw sectionTooLargeError(kind: kind)
            }

            guard let lineFeed else {
                self.cursor = end - sectionStart
                self.lineStart = lineStart - sectionStart
                self.lineIndex = lineIndex
                return nil
            }
            // RFC 9112 section 2.2: a bare LF as line terminator is accepted by some recipients
            // and not by others; reject it.
            if lineFeed == lineStart || bytes[lineFeed - 1] != ASCII.carriageReturn {
                throw HTTPParseError(.bareLineFeed, "A line ends in LF without CR (RFC 9112 section 2.2).")
            }

            let isEmpty = lineFeed == lineStart + 1
            switch kind {
            case .chunkSizeLine:
                reset()
                return Section(end: lineFeed + 1, fieldLines: 0)
            case .head, .trailers:
                if isEmpty && lineIndex >= firstFieldLine {
                    reset()
                    return Section(end: lineFeed + 1, fieldLines: lineIndex - firstFieldLine)
                }
            }
            if lineIndex >= firstFieldLine && lineIndex - firstFieldLine + 1 > limits.maxHeaderCount {
                throw HTTPParseError(.tooManyHeaders,
                                     "More than \(limits.maxHeaderCount) header fields (limit maxHeaderCount).")
            }
            lineIndex += 1
            lineStart = lineFeed + 1
            cursor = lineStart
        }
    }

    /// Limits may be set as high as Int.max; offsets past it mean "never".
    private func saturatingSum(_ values: Int...) -> Int {
        var sum = 0
        for value in values {
            let (result, overflow) = sum.addingReportingOverflow(value)
            if overflow { return Int.max }
            sum = result
        }
        return sum
    }

    private func maxLineLength(kind: Kind, lineIndex: Int, limits: HTTPLimits) -> Int {
        switch kind {
        case .head, .trailers: return limits.maxLineLength
        case .chunkSizeLine: return limits.maxChunkLineLength
        }
    }

    private func lineTooLongError(kind: Kind, lineIndex: Int) -> HTTPParseError {
        switch kind {
        case .head(let startLineTooLong) where lineIndex == 0:
            if startLineTooLong == .requestLineTooLong {
                return HTTPParseError(.requestLineTooLong,
                                      "The request line is longer than maxLineLength; the target is too long.")
            }
            return HTTPParseError(startLineTooLong, "The start line is longer than maxLineLength.")
        case .head, .trailers:
            return HTTPParseError(.lineTooLong, "A header line is longer than maxLineLength.")
        case .chunkSizeLine:
            return HTTPParseError(.chunkLineTooLong, "A chunk-size line is longer than maxChunkLineLength.")
        }
    }

    private func sectionTooLargeError(kind: Kind) -> HTTPParseError {
        switch kind {
        case .head:
            return HTTPParseError(.headTooLarge, "The head is larger than maxHeadBytes.")
        case .trailers:
            return HTTPParseError(.trailersTooLarge, "The trailer section is larger than maxTrailerBytes.")
        case .chunkSizeLine:
            return HTTPParseError(.chunkLineTooLong, "A chunk-size line is longer than maxChunkLineLength.")
        }
    }
}
