import Testing
import HTTP1

@Suite("Header name sets")
struct HeaderNameSetTests {
    let set = HeaderNameSet(["Connection", "TE", "Transfer-Encoding", "X-API-Key", "te"])

    @Test("Members match whatever their case; names of the same length that differ do not")
    func membership() {
        for name in ["connection", "CONNECTION", "Connection", "te", "Te", "transfer-encoding", "x-api-key"] {
            #expect(set.contains(name), "\(name)")
        }
        for name in ["Connectiom", "TF", "T", "", "Transfer-Encodin", "Transfer-Encodings", "X-API-Kez",
                     String(repeating: "x", count: 200)] {
            #expect(!set.contains(name), "\(name)")
        }
    }

    @Test("Case folding touches ASCII letters only")
    func onlyASCIILetters() {
        let punctuation = HeaderNameSet(["A-B"])
        #expect(punctuation.contains("a-b"))
        #expect(!punctuation.contains("a\u{0D}b"), "CR (0x0D) with bit 0x20 set would read as '-' (0x2D)")
        #expect(!HeaderNameSet(["{"]).contains("["), "'[' (0x5B) with bit 0x20 set would read as '{' (0x7B)")
        #expect(!HeaderNameSet([]).contains("anything"))
    }

    @Test("A name that is not native UTF-8 storage still matches")
    func bridgedOrSubstringBacked() {
        let fromSubstring = String("xxTExx".dropFirst(2).dropLast(2))
        #expect(set.contains(fromSubstring))
    }
}

@Suite("Framing field summary")
struct FramingFieldSummaryTests {
    @Test("One pass finds the framing and connection fields whatever their case, and nothing else")
    func summary() {
        let headers = HTTPHeaders([("content-length", "5"), ("X-Content-Length", "9"), ("CONTENT-LENGTH", "5"),
                                   ("Transfer-encoding", "chunked"), ("connection", "close"),
                                   ("Connectiom", "x"), ("Host", "a")])
        var expected = FramingFieldSummary()
        expected.contentLengthCount = 2
        expected.contentLength = "5"
        expected.hasTransferEncoding = true
        expected.hasConnection = true
        #expect(headers.framingFields == expected)
        #expect(HTTPHeaders([("Host", "a"), ("Transfer-Encodings", "chunked")]).framingFields == FramingFieldSummary())
    }
}

@Suite("Content-Length as a number")
struct ContentLengthValueTests {
    @Test("Digits with optional whitespace read as a number; anything else, or too large, is none",
          arguments: [("0", 0), ("42", 42), (" \t17 ", 17), ("9223372036854775807", Int.max),
                      ("9223372036854775808", nil), ("99999999999999999999", nil), ("", nil), ("  ", nil),
                      ("+5", nil), ("-5", nil), ("5 5", nil), ("0x10", nil), ("5,5", nil)] as [(String, Int?)])
    func value(_ text: String, _ expected: Int?) {
        var summary = FramingFieldSummary()
        summary.contentLength = text
        #expect(summary.contentLengthValue == expected)
    }

    @Test("No Content-Length has no value")
    func absent() {
        #expect(FramingFieldSummary().contentLengthValue == nil)
    }
}
