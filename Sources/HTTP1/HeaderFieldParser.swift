/// Where the fields that decide framing and routing sit in a parsed field list, noted while the
/// lines are parsed so nobody scans the names again.
struct FramingFieldPositions {
    var hostCount = 0
    var firstHost = -1
    var contentLength = FieldPositions()
    var transferEncoding = FieldPositions()
}

/// The indices of the fields of one name, in order. The first is held inline, so the usual single
/// field allocates nothing; a list is made only for a second.
struct FieldPositions: Sequence {
    private var first = -1
    private var others: [Int] = []

    var isEmpty: Bool { first < 0 }

    mutating func append(_ index: Int) {
        if first < 0 { first = index } else { others.append(index) }
    }

    func makeIterator() -> Iterator {
        Iterator(positions: self)
    }

    struct Iterator: IteratorProtocol {
        let positions: FieldPositions
        /// -1 for `first`, then an index into `others`.
        var cursor = -1

        mutating func next() -> Int? {
            defer { cursor += 1 }
            if cursor < 0 { return positions.isEmpty ? nil : positions.first }
            return cursor < positions.others.count ? positions.others[cursor] : nil
        }
    }
}

/// Parses field lines (RFC 9112 section 5) from a section the line scanner already checked: every
/// line ends in CRLF and the section ends with an empty line.
enum HeaderFieldParser {
    /// Whether the section is a head (the lines follow a start line) or a trailer section.
    enum Section {
        case head
        case trailers
    }

    /// Parses the lines from `start` up to and including the empty line.
    static func parseFields(
        _ bytes: UnsafeRawBufferPointer,
        from start: Int,
        expectedCount: Int,
        section: Section,
        positions: inout FramingFieldPositions
    ) throws(HTTPParseError) -> HTTPHeaders {
        var fields: [HTTPField] = []
        fields.reserveCapacity(expectedCount)
        var lineStart = start
        while true {
            // The scanner guaranteed that a CRLF ends every line of the section.
            guard let lineFeed = bytes.firstLineFeed(from: lineStart, to: bytes.count) else { break }
            let lineEnd = lineFeed - 1
            if lineEnd == lineStart { break }

            let field = try parseLine(bytes, lineStart, lineEnd, isFirst: fields.isEmpty, section: section)
            notePosition(ofName: lineStart..<field.nameEnd, in: bytes, index: fields.count, positions: &positions)
            fields.append(field.field)
            lineStart = lineEnd + 2
        }
        return HTTPHeaders(fields: fields)
    }

    private static func notePosition(
        ofName name: Range<Int>, in bytes: UnsafeRawBufferPointer, index: Int,
        positions: inout FramingFieldPositions
    ) {
        let nameStart = name.lowerBound, nameEnd = name.upperBound
        switch nameEnd - nameStart {
        case 4 where bytes.equalsIgnoringCase(nameStart, nameEnd, lowercase: "host"):
            positions.hostCount += 1
            if positions.firstHost < 0 { positions.firstHost = index }
        case 14 where bytes.equalsIgnoringCase(nameStart, nameEnd, lowercase: "content-length"):
            positions.contentLength.append(index)
        case 17 where bytes.equalsIgnoringCase(nameStart, nameEnd, lowercase: "transfer-encoding"):
            positions.transferEncoding.append(index)
        default:
            break
        }
    }

    /// field-line = field-name ":" OWS field-value OWS (RFC 9112 section 5).
    private static func parseLine(
        _ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int, isFirst: Bool, section: Section
    ) throws(HTTPParseError) -> (field: HTTPField, nameEnd: Int) {
        let first = bytes[start]
        if ByteClass.isWhitespace(first) {
            if isFirst && section == .head {
                // RFC 9112 section 2.2: whitespace between the start line and the first field
                // line could hide a field from one recipient and not another; reject.
                throw HTTPParseError(.whitespaceAfterStartLine,
                                     "Whitespace before the first header field (RFC 9112 section 2.2).")
            }
            // RFC 9112 section 5.2: obs-fold outside message/http must be rejected or replaced.
            throw HTTPParseError(.obsoleteLineFolding,
                                 "A header line starts with whitespace: obsolete line folding (RFC 9112 section 5.2).")
        }

        var nameEnd = start
        while nameEnd < end && ByteClass.isToken(bytes[nameEnd]) { nameEnd += 1 }
        if nameEnd == end {
            throw HTTPParseError(.missingColon, "A header line has no colon (RFC 9112 section 5).")
        }
        let stop = bytes[nameEnd]
        if stop != ASCII.colon {
            if ByteClass.isWhitespace(stop) {
                var next = nameEnd
                while next < end && ByteClass.isWhitespace(bytes[next]) { next += 1 }
                if next < end && bytes[next] == ASCII.colon && nameEnd > start {
                    // RFC 9112 section 5.1: a server MUST reject whitespace between name and colon.
                    throw HTTPParseError(.whitespaceBeforeColon,
                                         "Whitespace between a header name and its colon (RFC 9112 section 5.1).")
                }
            }
            throw HTTPParseError(.invalidHeaderName,
                                 "A header name holds a byte that is not a token character (RFC 9110 section 5.1).")
        }
        if nameEnd == start {
            throw HTTPParseError(.invalidHeaderName, "A header line has an empty name (RFC 9110 section 5.1).")
        }

        var valueStart = nameEnd + 1
        var valueEnd = end
        while valueStart < valueEnd && ByteClass.isWhitespace(bytes[valueStart]) { valueStart += 1 }
        while valueEnd > valueStart && ByteClass.isWhitespace(bytes[valueEnd - 1]) { valueEnd -= 1 }
        // RFC 9110 section 5.5: CR, LF and NUL must be rejected; other controls are too here.
        guard ByteClass.areFieldValueBytes(bytes, valueStart, valueEnd) else {
            throw HTTPParseError(.invalidHeaderValue, "A header value holds a control byte (RFC 9110 section 5.5).")
        }
        let field = HTTPField(name: bytes.string(start, nameEnd),
                              valueBytes: UnsafeRawBufferPointer(rebasing: bytes[valueStart..<valueEnd]))
        return (field, nameEnd)
    }
}
