import Testing
@testable import HTTP1

@Suite("ByteWriter")
struct ByteWriterTests {
    private func written(atMost room: Int, _ body: (inout ByteWriter) -> Void) -> String {
        var buffer: [UInt8] = Array("prefix|".utf8)
        buffer.appendWriting(atMost: room) { body(&$0) }
        return String(decoding: buffer, as: UTF8.self)
    }

    @Test("Numbers are padded to their width and never cut")
    func decimals() {
        #expect(written(atMost: 8) { $0.append(decimal: 7, width: 3) } == "prefix|007")
        #expect(written(atMost: 8) { $0.append(decimal: 0) } == "prefix|0")
        #expect(written(atMost: 8) { $0.append(decimal: 12345, width: 2) } == "prefix|12345")
        #expect(written(atMost: 8) { $0.append(decimal: -42, width: 4) } == "prefix|-0042")
        #expect(written(atMost: 20) { $0.append(decimal: Int.max) } == "prefix|9223372036854775807")
        #expect(written(atMost: 20) { $0.append(decimal: Int.min) } == "prefix|-9223372036854775808")
        #expect(written(atMost: 20) { $0.append(decimal: 1_000_000_000_000_000_000) } == "prefix|1000000000000000000")
    }

    @Test("Hexadecimal digits are lower case, zero is one digit")
    func hex() {
        #expect(written(atMost: 16) { $0.append(hex: 0) } == "prefix|0")
        #expect(written(atMost: 16) { $0.append(hex: 0x1F) } == "prefix|1f")
        #expect(written(atMost: 16) { $0.append(hex: Int.max) } == "prefix|7fffffffffffffff")
    }

    @Test("Only what was written is kept, whatever the room; text, literals and bytes mix")
    func keepsWhatWasWritten() {
        #expect(written(atMost: 100) { $0.append("ab"); $0.append(utf8: "cé"); $0.append(UInt8(ascii: "!")) }
            == "prefix|abcé!")
        #expect(written(atMost: 0) { _ in } == "prefix|")
        // A string whose UTF-8 is not contiguous in memory (bridged or lazily made) is copied
        // byte by byte.
        let substring = "xyzw".dropFirst()
        #expect(written(atMost: 3) { $0.append(utf8: String(substring)) } == "prefix|yzw")
        var exact: [UInt8] = []
        exact.appendWriting(atMost: 4) { $0.append("1234"); #expect($0.remaining == 0) }
        #expect(exact == Array("1234".utf8))
    }

    @Test("Writing past the room traps instead of overrunning it")
    func overrunTraps() async {
        await #expect(processExitsWith: .failure) {
            var buffer: [UInt8] = []
            buffer.appendWriting(atMost: 3) { $0.append("four") }
        }
        await #expect(processExitsWith: .failure) {
            var buffer: [UInt8] = []
            buffer.appendWriting(atMost: 2) { $0.append(decimal: 100) }
        }
    }
}
