import HTTP1
import Testing

@Suite("Serializer")
struct SerializerTests {
    @Test("a request head is written exactly as given, names in their case and order")
    func exactRequestBytes() {
        let head = HTTPRequestHead(
            method: "PATCH", target: "/a?b=c",
            headers: HTTPHeaders([("hOsT", "example.com"), ("X-Mixed-CASE", "Value  With Spaces"), ("x-b", "1"),
                                  ("X-Mixed-CASE", "second")]))
        var buffer: [UInt8] = []
        HTTPSerializer.writeHead(head, into: &buffer)
        let expected = "PATCH /a?b=c HTTP/1.1\r\nhOsT: example.com\r\nX-Mixed-CASE: Value  With Spaces\r\n"
            + "x-b: 1\r\nX-Mixed-CASE: second\r\n\r\n"
        #expect(String(decoding: buffer, as: UTF8.self) == expected)
    }

    @Test("a response head is written exactly, an empty reason as the standard phrase")
    func exactResponseBytes() {
        var buffer: [UInt8] = [0x41]
        HTTPSerializer.writeHead(HTTPResponseHead(status: 404, headers: ["content-LENGTH": "0"]), into: &buffer)
        HTTPSerializer.writeHead(HTTPResponseHead(status: 200, reason: "Fine", version: .http1_0), into: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self)
            == "AHTTP/1.1 404 Not Found\r\ncontent-LENGTH: 0\r\n\r\nHTTP/1.0 200 Fine\r\n\r\n")
    }

    @Test("a header value that is not UTF-8 is written back as the very bytes that arrived")
    func latin1ValueRoundTrip() throws {
        // An old servlet container naming an attachment in Latin-1: "café.txt" with é as 0xE9.
        let wire: [UInt8] = Array("HTTP/1.1 200 OK\r\nContent-Disposition: attachment; filename=\"caf".utf8)
            + [0xE9] + Array(".txt\"\r\nContent-Length: 0\r\n\r\n".utf8)
        var parser = HTTPResponseParser()
        parser.expectResponse(toMethod: "GET")
        var parsed: HTTPResponseHead?
        _ = try wire.withUnsafeBytes { bytes in
            try parser.parse(bytes) { event in
                if case .head(let head) = event { parsed = head }
                return .proceed
            }
        }
        let head = try #require(parsed)
        #expect(head.headers.fields[0].valueIsLatin1)
        #expect(head.headers.first(name: "Content-Disposition") == "attachment; filename=\"caf\u{E9}.txt\"")
        var written: [UInt8] = []
        HTTPSerializer.writeHead(head, into: &written)
        #expect(written == wire)

        // Assigning a value makes it text again, written as UTF-8.
        var edited = head
        var headers = HTTPHeaders()
        for var field in edited.headers {
            field.value = field.value
            headers.add(name: field.name, value: field.value)
            #expect(!field.valueIsLatin1)
        }
        edited.headers = headers
        written = []
        HTTPSerializer.writeHead(edited, into: &written)
        #expect(written.contains(0xC3) && !written.contains(0xE9))
    }

    @Test("serializing a parsed head and parsing it again gives the same head", arguments: validCases)
    func roundTrip(_ testCase: ValidCase) throws {
        for message in testCase.expected {
            var buffer: [UInt8] = []
            switch message.head {
            case .request(let head):
                HTTPSerializer.writeHead(head, into: &buffer)
                let reparsed = parseRequests([buffer])
                #expect(reparsed.messages.first?.head == .request(head))
            case .response(let head), .informational(let head):
                HTTPSerializer.writeHead(head, into: &buffer)
                let reparsed = parseResponses([buffer], methods: ["HEAD"], finishAtEnd: false)
                var expected = head
                if expected.reason.isEmpty { expected.reason = HTTPSerializer.reasonPhrase(for: head.status) }
                let parsedHead: HTTPResponseHead? = switch reparsed.messages.first?.head {
                case .response(let head), .informational(let head): head
                case .request, nil: nil
                }
                #expect(parsedHead == expected)
            }
        }
    }

    @Test("chunk helpers write a body the parser reads back with its trailers")
    func chunkRoundTrip() throws {
        var wire = Array("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        let pieces = [Array("hello".utf8), [], Array(repeating: UInt8(ascii: "x"), count: 300)]
        for piece in pieces {
            piece.withUnsafeBytes { HTTPSerializer.writeChunk($0, into: &wire) }
        }
        HTTPSerializer.writeLastChunk(trailers: ["Checksum": "42", "x-Other": "y"], into: &wire)
        let run = parseRequests([wire])
        #expect(run.brokenRule == nil)
        #expect(run.messages.first?.body == pieces.flatMap { $0 })
        #expect(run.messages.first?.trailers == HTTPHeaders([("Checksum", "42"), ("x-Other", "y")]))
        #expect(run.leftover.isEmpty)
    }

    @Test("chunk sizes are lower-case hex and an empty chunk writes nothing")
    func chunkBytes() {
        var buffer: [UInt8] = []
        [UInt8](repeating: 0x61, count: 255).withUnsafeBytes { HTTPSerializer.writeChunk($0, into: &buffer) }
        #expect(Array(buffer.prefix(4)) == Array("ff\r\n".utf8))
        #expect(Array(buffer.suffix(2)) == Array("\r\n".utf8))
        #expect(buffer.count == 4 + 255 + 2)
        var empty: [UInt8] = []
        [UInt8]().withUnsafeBytes { HTTPSerializer.writeChunk($0, into: &empty) }
        #expect(empty.isEmpty)
        HTTPSerializer.writeLastChunk(trailers: nil, into: &empty)
        #expect(String(decoding: empty, as: UTF8.self) == "0\r\n\r\n")
    }

    @Test("reason phrases are the standard ones and empty for unknown codes")
    func reasonPhrases() {
        #expect(HTTPSerializer.reasonPhrase(for: 200) == "OK")
        #expect(HTTPSerializer.reasonPhrase(for: 431) == "Request Header Fields Too Large")
        #expect(HTTPSerializer.reasonPhrase(for: 502) == "Bad Gateway")
        #expect(HTTPSerializer.reasonPhrase(for: 599) == "")
    }
}
