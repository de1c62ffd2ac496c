@testable import HTTP1
import Testing

/// The bit-set character classes against their readable definitions.
@Suite("Byte classes")
struct ByteClassTests {
    let letters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
    let digits = Set("0123456789".utf8)

    @Test("token characters are tchar of RFC 9110 section 5.6.2")
    func tokens() {
        let tchar = letters.union(digits).union("!#$%&'*+-.^_`|~".utf8)
        for byte in UInt8.min...UInt8.max {
            #expect(ByteClass.isToken(byte) == tchar.contains(byte), "byte \(byte)")
        }
    }

    @Test("host characters are those of uri-host and port")
    func hosts() {
        let host = letters.union(digits).union("-._~%!$&'()*+,;=:[]".utf8)
        for byte in UInt8.min...UInt8.max {
            #expect(ByteClass.isHost(byte) == host.contains(byte), "byte \(byte)")
        }
    }

    @Test("field values allow HTAB, SP, VCHAR and obs-text only")
    func fieldValues() {
        for byte in UInt8.min...UInt8.max {
            let expected = byte == 0x09 || (0x20...0x7E).contains(byte) || byte >= 0x80
            #expect(ByteClass.isFieldValueByte(byte) == expected, "byte \(byte)")
        }
    }

    @Test("hex digits decode in both cases and nothing else does")
    func hexDigits() {
        for byte in UInt8.min...UInt8.max {
            let lower = Array("0123456789abcdef".utf8), upper = Array("0123456789ABCDEF".utf8)
            let expected = lower.firstIndex(of: byte) ?? upper.firstIndex(of: byte)
            #expect(ByteClass.hexValue(byte) == expected, "byte \(byte)")
        }
    }
}

extension ByteClassTests {
    @Test("the word-at-a-time value check agrees with the byte check at every position")
    func wordAtATimeValues() {
        for bad in [UInt8(0x00), 0x01, 0x0A, 0x0D, 0x1F, 0x7F] {
            for length in 1...20 {
                for position in 0..<length {
                    var value = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                    value[position] = bad
                    value.withUnsafeBytes { #expect(!ByteClass.areFieldValueBytes($0, 0, length)) }
                }
            }
        }
        let fine = Array("tab\there, obs-text \u{E9}\u{FF}, every printable: ~!@#$%^&*()_+{}|:\"<>?".utf8)
        fine.withUnsafeBytes { #expect(ByteClass.areFieldValueBytes($0, 0, fine.count)) }
        let all = (UInt8.min...UInt8.max).map { $0 }
        all.withUnsafeBytes { buffer in
            for start in 0..<32 {
                let expected = all[start..<start + 8].allSatisfy(ByteClass.isFieldValueByte)
                #expect(ByteClass.areFieldValueBytes(buffer, start, start + 8) == expected, "start \(start)")
            }
        }
    }
}
