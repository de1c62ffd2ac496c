import HTTP1
import Testing

@Suite("Pipelined requests and pausing")
struct PipeliningTests {
    let first = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
    let second = "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
    let third = "POST /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"

    @Test("several requests in one buffer are all delivered, in order")
    func severalInOneBuffer() throws {
        var parser = HTTPRequestParser()
        let wire = Array((first + second + third).utf8)
        var targets: [String] = []
        var ends = 0
        let consumed = try parser.parse(wire) { event in
            if case .head(let head) = event { targets.append(head.target) }
            if case .end = event { ends += 1 }
            return .proceed
        }
        #expect(consumed == wire.count)
        #expect(targets == ["/1", "/2", "/3"])
        #expect(ends == 3)
        #expect(parser.isIdle)
    }

    @Test("pausing after each end returns the length of that request and the rest parses after")
    func pauseAfterEnd() throws {
        var parser = HTTPRequestParser()
        var wire = Array((first + second + third).utf8)
        var bodies: [String] = []
        var body: [UInt8] = []
        let pauseAtEnd: (HTTPRequestParserEvent) -> HTTPParserAction = { event in
            switch event {
            case .head: return .proceed
            case .body(let bytes):
                body += bytes
                return .proceed
            case .end:
                bodies.append(String(decoding: body, as: UTF8.self))
                body = []
                return .pause
            }
        }
        for message in [first, second, third] {
            let consumed = try parser.parse(wire, pauseAtEnd)
            #expect(consumed == message.utf8.count)
            #expect(parser.isIdle)
            wire.removeFirst(consumed)
        }
        #expect(wire.isEmpty)
        #expect(bodies == ["", "hello", "abc"])
    }

    @Test("pausing after a head keeps the body for the next call")
    func pauseAfterHead() throws {
        var parser = HTTPRequestParser()
        let wire = Array(second.utf8)
        let consumed = try parser.parse(wire) { event in
            if case .head = event { return .pause }
            Issue.record("no event expected after the pause")
            return .proceed
        }
        #expect(consumed == second.utf8.count - 5)
        #expect(parser.bodyFraming == .length(5))
        #expect(!parser.isIdle)
        var body: [UInt8] = []
        var ended = false
        let rest = try parser.parse(Array(wire[consumed...])) { event in
            if case .body(let bytes) = event { body += bytes }
            if case .end = event { ended = true }
            return .proceed
        }
        #expect(rest == 5)
        #expect(String(decoding: body, as: UTF8.self) == "hello")
        #expect(ended)
    }

    @Test("a request without a body delivers its end after a pause at the head")
    func pendingEndAfterPause() throws {
        var parser = HTTPRequestParser()
        var events: [String] = []
        let record: (HTTPRequestParserEvent) -> HTTPParserAction = { event in
            switch event {
            case .head: events.append("head")
            case .body: events.append("body")
            case .end: events.append("end")
            }
            return .pause
        }
        let consumed = try parser.parse(Array(first.utf8), record)
        #expect(consumed == first.utf8.count)
        #expect(events == ["head"])
        #expect(try parser.parse([], record) == 0)
        #expect(events == ["head", "end"])
        #expect(parser.isIdle)
    }

    @Test("an incomplete head is not consumed and completes when the rest arrives")
    func incompleteHeadNotConsumed() throws {
        var parser = HTTPRequestParser()
        let wire = Array(first.utf8)
        var heads = 0
        let countHeads: (HTTPRequestParserEvent) -> HTTPParserAction = { event in
            if case .head = event { heads += 1 }
            return .proceed
        }
        #expect(try parser.parse(Array(wire[..<10]), countHeads) == 0)
        #expect(!parser.isIdle)
        #expect(try parser.parse(Array(wire[..<20]), countHeads) == 0)
        #expect(heads == 0)
        #expect(try parser.parse(wire, countHeads) == wire.count)
        #expect(heads == 1)
    }

    @Test("a lone CR between requests is kept and the parser is not idle")
    func loneCarriageReturn() throws {
        var parser = HTTPRequestParser()
        #expect(try parser.parse(Array("\r".utf8)) == 0)
        #expect(!parser.isIdle)
        #expect(try parser.parse(Array("\r\n".utf8)) == 2)
        #expect(parser.isIdle)
    }

    @Test("body bytes are views into the caller's buffer")
    func bodyIsAView() throws {
        var parser = HTTPRequestParser()
        let wire = Array(second.utf8)
        try wire.withUnsafeBytes { buffer in
            var viewStart: UnsafeRawPointer?
            _ = try parser.parse(buffer) { event in
                if case .body(let bytes) = event { viewStart = bytes.baseAddress }
                return .proceed
            }
            #expect(viewStart == buffer.baseAddress! + (wire.count - 5))
        }
    }

    @Test("body framing reports what the last head declared")
    func bodyFraming() throws {
        var parser = HTTPRequestParser()
        var framings: [HTTPBodyFraming] = []
        var wire = Array((first + second + third).utf8)
        while !wire.isEmpty {
            let consumed = try parser.parse(wire) { event in
                if case .head = event { return .pause }
                return .proceed
            }
            framings.append(parser.bodyFraming)
            wire.removeFirst(consumed)
            let bodyConsumed = try parser.parse(wire) { event in
                if case .end = event { return .pause }
                return .proceed
            }
            wire.removeFirst(bodyConsumed)
        }
        #expect(framings == [.none, .length(5), .chunked])
    }
}

@Suite("Response framing")
struct ResponseFramingTests {
    /// Parses `wire` whole as answers to `methods`, then calls finish when asked.
    func events(_ wire: String, methods: [String], finish: Bool = false) throws(HTTPParseError) -> [String] {
        var parser = HTTPResponseParser()
        for method in methods { parser.expectResponse(toMethod: method) }
        var events: [String] = []
        let record: (HTTPResponseParserEvent) -> HTTPParserAction = { event in
            switch event {
            case .informational(let head): events.append("informational \(head.status)")
            case .head(let head): events.append("head \(head.status)")
            case .body(let bytes): events.append("body \(String(decoding: bytes, as: UTF8.self))")
            case .end(let trailers): events.append(trailers == nil ? "end" : "end with trailers")
            }
            return .proceed
        }
        let consumed = try parser.parse(Array(wire.utf8), record)
        #expect(consumed == wire.utf8.count)
        if finish { try parser.finish(record) }
        return events
    }

    @Test("a response to HEAD with Content-Length has no body")
    func headResponse() throws {
        var parser = HTTPResponseParser()
        parser.expectResponse(toMethod: "HEAD")
        var events = 0
        let wire = Array("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n".utf8)
        #expect(try parser.parse(wire) { _ in events += 1; return .proceed } == wire.count)
        #expect(events == 2)
        #expect(parser.bodyFraming == .none)
        #expect(parser.isIdle)
    }

    @Test("204 and 304 responses have no body")
    func noContentAndNotModified() throws {
        let wire = "HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\nHTTP/1.1 304 Not Modified\r\n\r\n"
        #expect(try events(wire, methods: ["GET", "GET"]) == ["head 204", "end", "head 304", "end"])
    }

    @Test("a body without length ends when finish is called")
    func closeDelimited() throws {
        var parser = HTTPResponseParser()
        parser.expectResponse(toMethod: "GET")
        var events: [String] = []
        let record: (HTTPResponseParserEvent) -> HTTPParserAction = { event in
            switch event {
            case .body(let bytes): events.append(String(decoding: bytes, as: UTF8.self))
            case .end: events.append("end")
            case .head, .informational: events.append("head")
            }
            return .proceed
        }
        _ = try parser.parse(Array("HTTP/1.1 200 OK\r\n\r\npart one, ".utf8), record)
        #expect(parser.bodyFraming == .untilClose)
        _ = try parser.parse(Array("part two".utf8), record)
        #expect(events == ["head", "part one, ", "part two"])
        try parser.finish(record)
        #expect(events == ["head", "part one, ", "part two", "end"])
    }

    @Test("finish in the middle of a Content-Length body throws")
    func finishInsideLengthBody() throws {
        var parser = HTTPResponseParser()
        parser.expectResponse(toMethod: "GET")
        _ = try parser.parse(Array("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc".utf8))
        #expect(throws: HTTPParseError.self) { try parser.finish { _ in .proceed } }
        do {
            try parser.finish { _ in .proceed }
        } catch {
            #expect(error.rule == .incompleteMessage)
        }
    }

    @Test("finish between responses is quiet")
    func finishWhenIdle() throws {
        #expect(try events("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", methods: ["GET"], finish: true)
            == ["head 200", "body x", "end"])
    }

    @Test("100 Continue is informational and the final response follows")
    func continueThenOK() throws {
        let wire = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        #expect(try events(wire, methods: ["POST"]) == ["informational 100", "head 200", "body ok", "end"])
    }

    @Test("an informational response does not use up the expected method")
    func informationalKeepsExpectation() throws {
        let wire = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        #expect(try events(wire, methods: ["HEAD", "GET"])
            == ["informational 100", "head 200", "end", "head 200", "body ok", "end"])
    }

    @Test("after 101 nothing more is parsed")
    func switchingProtocols() throws {
        var parser = HTTPResponseParser()
        parser.expectResponse(toMethod: "GET")
        let head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"
        let consumed = try parser.parse(Array((head + "\u{81}\u{5}hello").utf8))
        #expect(consumed == head.utf8.count)
        #expect(parser.hasSwitchedProtocols)
        #expect(try parser.parse(Array("more".utf8)) == 0)
    }

    @Test("chunked response trailers are delivered with the end")
    func chunkedTrailers() throws {
        let wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nX-Sum: 1\r\n\r\n"
        #expect(try events(wire, methods: ["GET"]) == ["head 200", "body hi", "end with trailers"])
    }
}
