#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Byte constants and the character classes of RFC 9110 section 5.6 and RFC 9112, as branch-light
/// checks on single bytes. Nothing here allocates.
enum ASCII {
    static let tab: UInt8 = 0x09
    static let lineFeed: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22
    static let hash: UInt8 = 0x23
    static let asterisk: UInt8 = 0x2A
    static let slash: UInt8 = 0x2F
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let equals: UInt8 = 0x3D
    static let backslash: UInt8 = 0x5C
    static let zero: UInt8 = 0x30
    static let nine: UInt8 = 0x39
    static let delete: UInt8 = 0x7F
}

enum ByteClass {
    /// tchar (RFC 9110 section 5.6.2): "!" "#" "$" "%" "&" "'" "*" "+" "-" "." "^" "_" "`" "|" "~",
    /// DIGIT and ALPHA, as bit sets over bytes 0-63 and 64-127.
    private static let tokenLow: UInt64 = 0x03FF_6CFA_0000_0000
    private static let tokenHigh: UInt64 = 0x57FF_FFFF_C7FF_FFFE

    @inline(__always)
    static func isToken(_ byte: UInt8) -> Bool {
        if byte < 64 { return (tokenLow >> UInt64(byte)) & 1 == 1 }
        if byte < 128 { return (tokenHigh >> UInt64(byte &- 64)) & 1 == 1 }
        return false
    }

    /// uri-host and port characters (RFC 3986 section 3.2.2): unreserved "-" "." "_" "~", "%" of
    /// pct-encoded, sub-delims "!" "$" "&" "'" "(" ")" "*" "+" "," ";" "=", ":" and the "[" "]" of
    /// IP-literal, DIGIT and ALPHA.
    private static let hostLow: UInt64 = 0x2FFF_7FF2_0000_0000
    private static let hostHigh: UInt64 = 0x47FF_FFFE_AFFF_FFFE

    @inline(__always)
    static func isHost(_ byte: UInt8) -> Bool {
        if byte < 64 { return (hostLow >> UInt64(byte)) & 1 == 1 }
        if byte < 128 { return (hostHigh >> UInt64(byte &- 64)) & 1 == 1 }
        return false
    }

    /// SP or HTAB: OWS/BWS (RFC 9110 section 5.6.3).
    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == ASCII.space || byte == ASCII.tab
    }

    /// A byte allowed inside a field value: field-vchar, SP, HTAB (RFC 9110 section 5.5).
    /// obs-text (0x80-0xFF) is allowed; every other control byte, NUL and CR included, is not.
    @inline(__always)
    static func isFieldValueByte(_ byte: UInt8) -> Bool {
        (byte >= ASCII.space && byte != ASCII.delete) || byte == ASCII.tab
    }

    /// Whether every byte of bytes[start..<end] passes `isFieldValueByte`. Eight bytes at a time:
    /// a word with no byte below 0x20 and none equal to 0x7F passes at once; a word with one (a
    /// tab, or a real control byte) is checked byte by byte.
    @inline(__always)
    static func areFieldValueBytes(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highBits: UInt64 = 0x8080_8080_8080_8080
        var index = start
        while end - index >= 8 {
            let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            // Some byte < 0x20: subtracting 0x20 borrows into a high bit the byte did not have.
            let hasControl = (word &- ones &* 0x20) & ~word & highBits
            let xored = word ^ (ones &* 0x7F)
            let hasDelete = (xored &- ones) & ~xored & highBits
            if hasControl | hasDelete != 0 {
                for offset in 0..<8 where !isFieldValueByte(bytes[index + offset]) { return false }
            }
            index += 8
        }
        while index < end {
            if !isFieldValueByte(bytes[index]) { return false }
            index += 1
        }
        return true
    }

    /// A byte allowed in a request target: visible ASCII except "#" (a fragment is never sent,
    /// RFC 9112 section 3.2). Space, controls and bytes above 0x7E are rejected. The printable
    /// characters RFC 3986 leaves out (`"`, `<`, `>`, `\`, `^`, backtick, `{`, `|`, `}`) are let
    /// through as the widespread servers do: they do not change where a message ends.
    @inline(__always)
    static func isTargetByte(_ byte: UInt8) -> Bool {
        byte > ASCII.space && byte < ASCII.delete && byte != ASCII.hash
    }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool {
        byte >= ASCII.zero && byte <= ASCII.nine
    }

    @inline(__always)
    static func isAlpha(_ byte: UInt8) -> Bool {
        let folded = byte | 0x20
        return folded >= 0x61 && folded <= 0x7A
    }

    /// The value of a hexadecimal digit, or nil.
    @inline(__always)
    static func hexValue(_ byte: UInt8) -> Int? {
        if byte >= ASCII.zero && byte <= ASCII.nine { return Int(byte &- ASCII.zero) }
        let folded = byte | 0x20
        if folded >= 0x61 && folded <= 0x66 { return Int(folded &- 0x61 &+ 10) }
        return nil
    }
}

extension UnsafeRawBufferPointer {
    /// Whether bytes[start..<end] equal `lowercase` with ASCII letters folded.
    @inline(__always)
    func equalsIgnoringCase(_ start: Int, _ end: Int, lowercase: StaticString) -> Bool {
        guard end - start == lowercase.utf8CodeUnitCount else { return false }
        let literal = lowercase.utf8Start
        var index = 0
        while index < end - start {
            if self[start + index] | 0x20 != literal[index] | 0x20 { return false }
            index += 1
        }
        return true
    }

    /// The index of the first LF in bytes[start..<end], found with memchr.
    @inline(__always)
    func firstLineFeed(from start: Int, to end: Int) -> Int? {
        guard start < end, let base = baseAddress else { return nil }
        guard let found = memchr(base + start, Int32(ASCII.lineFeed), end - start) else { return nil }
        return base.distance(to: UnsafeRawPointer(found))
    }

    /// A String made once from bytes[start..<end].
    @inline(__always)
    func string(_ start: Int, _ end: Int) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: self[start..<end]), as: UTF8.self)
    }

    /// Whether no byte has its high bit set, eight bytes at a time.
    var isASCII: Bool {
        var index = 0
        var seen: UInt64 = 0
        while count - index >= 8 {
            seen |= loadUnaligned(fromByteOffset: index, as: UInt64.self)
            index += 8
        }
        while index < count {
            seen |= UInt64(self[index])
            index += 1
        }
        return seen & 0x8080_8080_8080_8080 == 0
    }
}
