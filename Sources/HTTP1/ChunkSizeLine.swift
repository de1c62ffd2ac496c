/// The chunk-size line of the chunked coding (RFC 9112 section 7.1):
///
///     chunk-size [ chunk-ext ] CRLF
///     chunk-size = 1*HEXDIG
///     chunk-ext  = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
///
/// Extensions are checked for syntax and then ignored (section 7.1.1 lets a recipient ignore
/// them). Anything a lenient reader might read as a different size is rejected: a sign, "0x",
/// whitespace not followed by an extension, an empty size, a value that does not fit in an Int.
enum ChunkSizeLine {
    /// Parses bytes[start..<end], the line without its CRLF.
    static func parse(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) throws(HTTPParseError) -> Int {
        var index = start
        var size = 0
        while index < end, let digit = ByteClass.hexValue(bytes[index]) {
            guard size <= (Int.max - digit) >> 4 else {
                throw HTTPParseError(.invalidChunkSize, "A chunk size does not fit in 63 bits (RFC 9112 section 7.1).")
            }
            size = size << 4 | digit
            index += 1
        }
        if index == start {
            throw HTTPParseError(.invalidChunkSize,
                                 "A chunk-size line does not start with a hexadecimal digit (RFC 9112 section 7.1).")
        }
        if index == end { return size }

        var next = index
        while next < end && ByteClass.isWhitespace(bytes[next]) { next += 1 }
        guard next < end && bytes[next] == ASCII.semicolon else {
            throw HTTPParseError(.invalidChunkSize,
                                 "A chunk size is followed by something other than an extension "
                                     + "(RFC 9112 section 7.1).")
        }
        try checkExtensions(bytes, next, end)
        return size
    }

    /// Checks `*( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )` from the first ";".
    private static func checkExtensions(
        _ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int
    ) throws(HTTPParseError) {
        let invalid = HTTPParseError(
            .invalidChunkExtension, "A chunk extension is not token[=token or quoted-string] (RFC 9112 section 7.1.1).")
        var index = start
        func skipWhitespace() {
            while index < end && ByteClass.isWhitespace(bytes[index]) { index += 1 }
        }
        func skipToken() -> Bool {
            let tokenStart = index
            while index < end && ByteClass.isToken(bytes[index]) { index += 1 }
            return index > tokenStart
        }

        while index < end {
            skipWhitespace()
            guard index < end && bytes[index] == ASCII.semicolon else { throw invalid }
            index += 1
            skipWhitespace()
            guard skipToken() else { throw invalid }
            skipWhitespace()
            if index < end && bytes[index] == ASCII.equals {
                index += 1
                skipWhitespace()
                if index < end && bytes[index] == ASCII.quote {
                    guard skipQuotedString(bytes, &index, end) else { throw invalid }
                } else {
                    guard skipToken() else { throw invalid }
                }
            }
            // Whitespace is only allowed before ";" or "=", never at the end of the line.
            if index < end && ByteClass.isWhitespace(bytes[index]) {
                skipWhitespace()
                guard index < end else { throw invalid }
            }
        }
    }

    /// quoted-string (RFC 9110 section 5.6.4), starting at the opening quote.
    private static func skipQuotedString(_ bytes: UnsafeRawBufferPointer, _ index: inout Int, _ end: Int) -> Bool {
        index += 1
        while index < end {
            let byte = bytes[index]
            if byte == ASCII.quote {
                index += 1
                return true
            }
            if byte == ASCII.backslash {
                index += 1
                guard index < end, ByteClass.isFieldValueByte(bytes[index]) else { return false }
            } else if !ByteClass.isFieldValueByte(byte) {
                return false
            }
            index += 1
        }
        return false
    }
}
