/// Pieces of start lines shared by requests and responses.
enum StartLine {
    /// HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 section 2.3). Only 1.0 and 1.1 are
    /// spoken; another well-formed version is unsupported (505), anything else is invalid.
    static func version(
        _ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int
    ) throws(HTTPParseError) -> HTTPVersion {
        let wellFormed = end - start == 8
            && bytes[start] == UInt8(ascii: "H") && bytes[start + 1] == UInt8(ascii: "T")
            && bytes[start + 2] == UInt8(ascii: "T") && bytes[start + 3] == UInt8(ascii: "P")
            && bytes[start + 4] == ASCII.slash && ByteClass.isDigit(bytes[start + 5])
            && bytes[start + 6] == UInt8(ascii: ".") && ByteClass.isDigit(bytes[start + 7])
        guard wellFormed else {
            throw HTTPParseError(.invalidVersion, "The HTTP version is not HTTP/DIGIT.DIGIT (RFC 9112 section 2.3).")
        }
        let major = Int(bytes[start + 5] &- ASCII.zero), minor = Int(bytes[start + 7] &- ASCII.zero)
        guard major == 1 && minor <= 1 else {
            throw HTTPParseError(.unsupportedVersion, "Only HTTP/1.0 and HTTP/1.1 are supported.")
        }
        return minor == 1 ? .http1_1 : .http1_0
    }
}
