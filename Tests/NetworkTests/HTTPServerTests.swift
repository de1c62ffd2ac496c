import Foundation
import HTTP1
import Synchronization
import Testing
@testable import Network

@Suite("HTTP server")
struct HTTPServerTests {
    static func get(_ path: String, _ extra: String = "") -> String {
        "GET \(path) HTTP/1.1\r\nHost: test\r\n\(extra)\r\n"
    }

    /// Answers with the path (and the body length when there is a body).
    static let echoPath: @Sendable (HTTPServerRequest, HTTPResponder) -> Void = { request, responder in
        let text = request.body.isEmpty ? request.head.target : "\(request.head.target) \(request.body.count)"
        responder.respond(.ok([("Content-Type", "text/plain")]), body: Array(text.utf8))
    }

    @Test("keep-alive serves several requests on one connection")
    func keepAlive() throws {
        try withServer(handler: Self.echoPath) { _, port in
            let client = try RawHTTPClient(port: port)
            for index in 0..<5 {
                try client.send(Self.get("/r\(index)"))
                let response = try client.readResponse()
                #expect(response.head.status == 200)
                #expect(response.text == "/r\(index)")
                #expect(response.head.headers.first(name: "Content-Length") == "\(response.body.count)")
                #expect(!response.head.headers.contains(name: "Connection"))
            }
        }
    }

    @Test("pipelined requests are answered in order even when handlers finish out of order")
    func pipelining() throws {
        try withServer(handler: { request, responder in
            // Later requests would finish first if the server ran them concurrently.
            let delay = 50 - 10 * (Int(request.head.target.dropFirst()) ?? 0)
            request.eventLoop.scheduleTimer(after: .milliseconds(max(delay, 0))) {
                responder.respond(.ok(), body: Array(request.head.target.utf8))
            }
        }) { _, port in
            let client = try RawHTTPClient(port: port)
            try client.send((0..<5).map { Self.get("/\($0)") }.joined())
            let bodies = try (0..<5).map { _ in try client.readResponse().text }
            #expect(bodies == ["/0", "/1", "/2", "/3", "/4"])
        }
    }

    @Test("a chunked streamed response arrives intact with its trailers")
    func chunkedStreaming() throws {
        let pieces = (0..<20).map { index in [UInt8](repeating: UInt8(65 + index), count: 1000 * (index + 1)) }
        try withServer(handler: { request, responder in
            responder.sendHead(.ok([("Transfer-Encoding", "chunked")]))
            var remaining = pieces[...]
            func sendNext() {
                guard let piece = remaining.popFirst() else {
                    responder.sendEnd(trailers: ["X-Checksum": "done"])
                    return
                }
                responder.sendBody(piece)
                request.eventLoop.scheduleTimer(after: .milliseconds(2)) { sendNext() }
            }
            sendNext()
        }) { _, port in
            let client = try RawHTTPClient(port: port)
            try client.send(Self.get("/stream"))
            let response = try client.readResponse()
            #expect(response.head.headers.first(name: "Transfer-Encoding") == "chunked")
            #expect(response.body == pieces.flatMap { $0 })
            #expect(response.trailers?.first(name: "X-Checksum") == "done")
            // The connection is still usable.
            try client.send(Self.get("/again"))
            #expect(try client.readResponse().head.status == 200)
        }
    }

    @Test("a slow client sending its request one byte at a time gets its answer")
    func slowClient() throws {
        try withServer(handler: Self.echoPath) { _, port in
            let client = try RawHTTPClient(port: port)
            let request = "POST /slow HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\n0123456789"
                + Self.get("/next")
            for byte in request.utf8 {
                try client.send([byte])
                usleep(1000)
            }
            #expect(try client.readResponse().text == "/slow 10")
            #expect(try client.readResponse().text == "/next")
        }
    }

    @Test("a client that stops reading makes the server stop producing; pending output stays bounded")
    func backPressure() throws {
        let chunk = [UInt8](repeating: 120, count: 64 * 1024)
        let total = 48 * 1024 * 1024
        let produced = Atomic<Int>(0)
        let maxPending = Atomic<Int>(0)
        try withServer(handler: { request, responder in
            responder.sendHead(.ok([("Content-Length", "\(total)")]))
            func pump() {
                while responder.isWritable && produced.load(ordering: .relaxed) < total {
                    responder.sendBody(chunk)
                    produced.add(chunk.count, ordering: .relaxed)
                    maxPending.max(responder.pendingWriteBytes, ordering: .relaxed)
                }
                if produced.load(ordering: .relaxed) >= total { responder.sendEnd() }
            }
            responder.observer = ClosureResponderObserver(becameWritable: pump)
            pump()
        }) { _, port in
            let client = try RawHTTPClient(port: port, timeoutSeconds: 10)
            try client.send(Self.get("/big"))
            // Not reading: the server must stall once the socket buffers and its high-water mark fill.
            usleep(500_000)
            let stalledAt = produced.load(ordering: .relaxed)
            usleep(300_000)
            #expect(produced.load(ordering: .relaxed) == stalledAt)
            #expect(stalledAt < total / 2)
            let response = try client.readResponse()
            #expect(response.body.count == total)
            #expect(produced.load(ordering: .relaxed) == total)
            // High-water mark (256 KiB) plus one chunk.
            #expect(maxPending.load(ordering: .relaxed) <= 256 * 1024 + chunk.count)
        }
    }

    @Test("the header timeout answers 408 and closes a connection with a half-sent request")
    func headerTimeout() throws {
        try withServer(configure: { $0.headerTimeout = .milliseconds(300) }, handler: Self.echoPath) { _, port in
            let client = try RawHTTPClient(port: port)
            let start = ContinuousClock.now
            try client.send("GET /half HTTP/1.1\r\nHost: te")
            let response = try client.readResponse()
            #expect(response.head.status == 408)
            #expect(response.head.headers.first(name: "Connection") == "close")
            #expect(client.readsEOF())
            #expect(ContinuousClock.now - start < .seconds(3))
            #expect(ContinuousClock.now - start >= .milliseconds(300))
        }
    }

    @Test("an idle keep-alive connection is closed after the idle timeout")
    func idleTimeout() throws {
        try withServer(configure: { $0.idleTimeout = .milliseconds(300) }, handler: Self.echoPath) { _, port in
            let client = try RawHTTPClient(port: port)
            try client.send(Self.get("/once"))
            #expect(try client.readResponse().head.status == 200)
            let start = ContinuousClock.now
            #expect(client.readsEOF())
            #expect(ContinuousClock.now - start >= .milliseconds(250))
        }
    }

    @Test("a chunked request body with extensions and trailers arrives whole, split anywhere, then the next request")
    func chunkedRequestBody() throws {
        try withServer(handler: { request, responder in
            let body = String(decoding: request.body, as: UTF8.self)
            let text = request.head.target + (body.isEmpty ? "" : " " + body)
            responder.respond(.ok([("Content-Type", "text/plain")]), body: Array(text.utf8))
        }) { _, port in
            let request = "POST /chunked HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5;name=value\r\nhello\r\n1\r\n \r\nA;x\r\n0123456789\r\n0\r\nX-Checksum: 42\r\n\r\n"
                + Self.get("/after")
            let bytes = Array(request.utf8)
            // Whole, then in pieces that cut through sizes, extensions, CRLFs and the trailer.
            for pieceLength in [bytes.count, 7, 3] {
                let client = try RawHTTPClient(port: port)
                var offset = 0
                while offset < bytes.count {
                    let end = min(offset + pieceLength, bytes.count)
                    try client.send(Array(bytes[offset..<end]))
                    offset = end
                }
                #expect(try client.readResponse().text == "/chunked hello 0123456789")
                #expect(try client.readResponse().text == "/after")
            }
        }
    }

    @Test("a responder lets go of its connection once its response is done, whole or streamed")
    func responderReleasesConnection() throws {
        let kept = Mutex<[Unchecked<HTTPResponder>]>([])
        try withServer(handler: { request, responder in
            kept.withLock { $0.append(Unchecked(responder)) }
            if request.head.target == "/whole" {
                responder.respond(.ok([("Content-Type", "text/plain")]), body: Array("whole".utf8))
            } else {
                responder.sendHead(HTTPResponseHead(status: 200, headers: ["Transfer-Encoding": "chunked"]))
                responder.sendBody(Array("streamed".utf8))
                responder.sendEnd()
            }
        }) { _, port in
            let client = try RawHTTPClient(port: port)
            try client.send(Self.get("/whole"))
            #expect(try client.readResponse().text == "whole")
            try client.send(Self.get("/streamed"))
            #expect(try client.readResponse().text == "streamed")
            // The handler kept both responders; neither may keep the open connection alive.
            #expect(kept.withLock { $0.map(\.value.holdsConnection) } == [false, false])
        }
    }

    @Test("a request refused on its head gets the answer without 100 Continue, none of its body is read, then EOF")
    func refusedBeforeBody() throws {
        let handled = Waiter<String>()
        try withServer(handler: { request, responder in
            handled.record(request.head.target)
            responder.respond(.ok(), body: Array("handled".utf8))
        }, refuses: { head in head.target == "/refused" }) { _, port in
            // 10 MB announced (far over the default body limit's reach of this test), none sent.
            let client = try RawHTTPClient(port: port)
            try client.send("PUT /refused HTTP/1.1\r\nHost: test\r\nContent-Length: 10000000\r\n"
                            + "Expect: 100-continue\r\n\r\nsome of the body")
            let answer = try client.readResponse()
            #expect(answer.head.status == 401, "not 100 Continue")
            #expect(answer.text == "refused on the head")
            #expect(answer.head.headers.first(name: "Connection") == "close")
            #expect(client.readsEOF())

            // The same with a chunked body, and a request the handler lets through still works.
            let chunked = try RawHTTPClient(port: port)
            try chunked.send("POST /refused HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel")
            #expect(try chunked.readResponse().head.status == 401)
            #expect(chunked.readsEOF())
            let allowed = try RawHTTPClient(port: port)
            try allowed.send("PUT /allowed HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello")
            #expect(try allowed.readResponse().text == "handled")
            // A refusal applies to requests with a body only: a GET is never asked about.
            try allowed.send(Self.get("/refused"))
            #expect(try allowed.readResponse().text == "handled")
            #expect(handled.current == ["/allowed", "/refused"])
        }
    }

    @Test("what the handler decided on a head comes back with its request; a request without a body has none")
    func admissionComesBack() throws {
        try withServer(handler: { request, responder in
            let marker = (request.admission as? HeadMarker).map { "admitted \($0.target)" } ?? "none"
            responder.respond(.ok(), body: Array("\(request.head.target) \(marker)".utf8))
        }) { _, port in
            let client = try RawHTTPClient(port: port)
            try client.send("PUT /with-body HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello")
            #expect(try client.readResponse().text == "/with-body admitted /with-body")
            try client.send(Self.get("/without"))
            #expect(try client.readResponse().text == "/without none")
            try client.send("POST /chunked HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
                            + "1\r\nx\r\n0\r\n\r\n")
            #expect(try client.readResponse().text == "/chunked admitted /chunked")
        }
    }

    @Test("a client still uploading a refused body past the linger timeout is drained, not reset, and reads the answer")
    func refusedSlowUploadIsDrained() throws {
        try withServer(handler: { _, responder in responder.respond(.ok(), body: []) },
                       refuses: { _ in true }) { _, port in
            let client = try RawHTTPClient(port: port)
            try client.send("PUT /refused HTTP/1.1\r\nHost: test\r\nContent-Length: 30000\r\n\r\n")
            // 3 s of upload in slices, longer than the 2 s linger timeout, shorter than its 30 s cap.
            for _ in 0..<10 {
                try client.send([UInt8](repeating: 120, count: 3000))
                usleep(300_000)
            }
            let answer = try client.readResponse()
            #expect(answer.head.status == 401)
            #expect(client.readsEOF())
        }
    }

    @Test("Expect: 100-continue gets the interim response before the body is sent")
    func expectContinue() throws {
        try withServer(handler: Self.echoPath) { _, port in
            let client = try RawHTTPClient(port: port)
            try client.send("PUT /upload HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
            let interim = try #require(try client.receive())
            #expect(String(decoding: interim, as: UTF8.self) == "HTTP/1.1 100 Continue\r\n\r\n")
            try client.send("hello")
            #expect(try client.readResponse().text == "/upload 5")
        }
    }

    @Test("a body over maxBodyBytes gets 413 and the connection closes")
    func bodyTooLarge() throws {
        try withServer(configure: { $0.maxBodyBytes = 1000 }, handler: Self.echoPath) { _, port in
            let declared = try RawHTTPClient(port: port)
            try declared.send("POST /big HTTP/1.1\r\nHost: test\r\nContent-Length: 1001\r\n\r\n")
            let first = try declared.readResponse()
            #expect(first.head.status == 413)
            #expect(first.head.headers.first(name: "Connection") == "close")
            #expect(declared.readsEOF())

            let chunked = try RawHTTPClient(port: port)
            try chunked.send("POST /big HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n")
            for _ in 0..<3 { try chunked.send("190\r\n" + String(repeating: "x", count: 400) + "\r\n") }
            #expect(try chunked.readResponse().head.status == 413)
            #expect(chunked.readsEOF())

            let fits = try RawHTTPClient(port: port)
            try fits.send("POST /fits HTTP/1.1\r\nHost: test\r\nContent-Length: 1000\r\n\r\n"
                          + String(repeating: "y", count: 1000))
            #expect(try fits.readResponse().text == "/fits 1000")
        }
    }

    @Test("a malformed request gets the parser's suggested status with Connection: close, then EOF")
    func parseError() throws {
        try withServer(handler: Self.echoPath) { _, port in
            let client = try RawHTTPClient(port: port)
            try client.send("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.head.status == 400)
            #expect(response.head.headers.first(name: "Connection") == "close")
            #expect(client.readsEOF())
        }
    }

    @Test("HTTP/1.0 and Connection: close requests get Connection: close and the connection ends")
    func connectionClose() throws {
        try withServer(handler: Self.echoPath) { _, port in
            let client = try RawHTTPClient(port: port)
            try client.send(Self.get("/bye", "Connection: close\r\n"))
            let response = try client.readResponse()
            #expect(response.head.headers.first(name: "Connection") == "close")
            #expect(client.readsEOF())

            let old = try RawHTTPClient(port: port)
            try old.send("GET /old HTTP/1.0\r\n\r\n")
            #expect(try old.readResponse().text == "/old")
            #expect(old.readsEOF())

            let kept = try RawHTTPClient(port: port)
            try kept.send("GET /kept HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(try kept.readResponse().head.headers.first(name: "Connection") == "keep-alive")
            try kept.send("GET /kept2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(try kept.readResponse().text == "/kept2")
        }
    }

    @Test("a HEAD response carries Content-Length but no body")
    func headRequest() throws {
        try withServer(handler: { _, responder in
            responder.respond(.ok(), body: Array("twelve bytes".utf8))
        }) { _, port in
            let client = try RawHTTPClient(port: port)
            try client.send("HEAD / HTTP/1.1\r\nHost: test\r\n\r\n")
            let response = try client.readResponse(method: "HEAD")
            #expect(response.head.headers.first(name: "Content-Length") == "12")
            #expect(response.body.isEmpty)
            try client.send(Self.get("/"))
            #expect(try client.readResponse().text == "twelve bytes")
        }
    }

    @Test("a second server on a port another server listens on fails to start; the first keeps serving")
    func portInUse() throws {
        try withServer(handler: Self.echoPath) { _, port in
            let group = EventLoopGroup(loopCount: 2)
            defer { group.shutdown() }
            let address = try SocketAddress(host: "127.0.0.1", port: port)
            let second = HTTPServer(configuration: HTTPServerConfiguration(address: address), group: group,
                                    handler: ClosureHandler(Self.echoPath))
            #expect {
                try second.start()
            } throws: { error in
                (error as? IOError)?.errno == EADDRINUSE
            }
            // Every connection still reaches the first server (none went to a second listener).
            for index in 0..<8 {
                let client = try RawHTTPClient(port: port)
                try client.send(Self.get("/first\(index)"))
                #expect(try client.readResponse().text == "/first\(index)")
            }
        }
    }
}

@Suite("Streamed heads written by the handler")
struct HandlerWrittenHeadTests {
    /// Answers `/chunked`, `/length` and `/empty` with heads whose fields the handler writes.
    static let handler: @Sendable (HTTPServerRequest, HTTPResponder) -> Void = { request, responder in
        let fields = [HTTPField(name: "X-One", value: "1"), HTTPField(name: "content-type", value: "text/plain")]
        let bound = fields.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
        switch request.head.target {
        case "/chunked":
            responder.sendHead(status: 200, fieldsBound: bound + 28) { writer in
                for field in fields { writer.append(field: field) }
                writer.append("Transfer-Encoding: chunked\r\n")
                return .chunked
            }
            responder.sendBody(Array("hello ".utf8))
            responder.sendBody(Array("world".utf8))
        case "/empty":
            responder.sendHead(status: 204, reason: "Nothing", fieldsBound: bound) { writer in
                for field in fields { writer.append(field: field) }
                return .untilClose  // no body follows a 204 whatever the fields say
            }
        case "/close-delimited":
            responder.sendHead(status: 200, fieldsBound: bound) { writer in
                for field in fields { writer.append(field: field) }
                return .untilClose
            }
            responder.sendBody(Array("to the end".utf8))
        default:
            responder.sendHead(status: 201, fieldsBound: bound + 20) { writer in
                for field in fields { writer.append(field: field) }
                writer.append("Content-Length: 4\r\n")
                return .length(4)
            }
            // Bytes beyond the length given are dropped, as for any head.
            responder.sendBody(Array("abcdef".utf8))
        }
        responder.sendEnd()
    }

    @Test("the handler's fields go out in order after the status line, framed as it says, on a kept connection")
    func fieldsAndFraming() throws {
        try withServer(handler: Self.handler) { _, port in
            let client = try RawHTTPClient(port: port)
            try client.send(HTTPServerTests.get("/chunked"))
            let chunked = try client.readResponse()
            #expect(chunked.head.status == 200 && chunked.head.reason == "OK")
            #expect(chunked.head.headers.fields.map(\.name) == ["X-One", "content-type", "Transfer-Encoding"])
            #expect(chunked.text == "hello world")
            try client.send(HTTPServerTests.get("/length"))
            let length = try client.readResponse()
            #expect(length.head.status == 201 && length.text == "abcd")
            #expect(!length.head.headers.contains(name: "Connection"))
            try client.send(HTTPServerTests.get("/empty"))
            let empty = try client.readResponse()
            #expect(empty.head.status == 204 && empty.head.reason == "Nothing" && empty.body.isEmpty)
            // The same connection served all three.
            try client.send(HTTPServerTests.get("/length"))
            #expect(try client.readResponse().text == "abcd")
        }
    }

    @Test("an answer to HEAD whose head gives no length keeps the connection: no body follows it")
    func headWithoutLengthKeepsConnection() throws {
        try withServer(handler: { request, responder in
            if request.head.method == "HEAD" {
                responder.sendHead(HTTPResponseHead(status: 200, headers: ["Content-Type": "text/plain"]))
                responder.sendEnd()
            } else {
                responder.respond(HTTPResponseHead(status: 200), body: Array("after".utf8))
            }
        }) { _, port in
            let client = try RawHTTPClient(port: port)
            try client.send("HEAD /x HTTP/1.1\r\nHost: x\r\n\r\n")
            let head = try client.readResponse(method: "HEAD")
            #expect(head.head.status == 200 && head.body.isEmpty)
            #expect(head.head.headers.first(name: "Connection") == nil)
            try client.send(HTTPServerTests.get("/next"))
            #expect(try client.readResponse().text == "after")
        }
    }

    @Test("the responder adds the Connection field the connection needs; HEAD gets no body")
    func connectionField() throws {
        try withServer(handler: Self.handler) { _, port in
            let old = try RawHTTPClient(port: port)
            try old.send("GET /length HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            let kept = try old.readResponse()
            #expect(kept.head.headers["Connection"] == ["keep-alive"] && kept.text == "abcd")
            let closing = try RawHTTPClient(port: port)
            try closing.send("GET /chunked HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let closed = try closing.readResponse()
            #expect(closed.head.headers["Connection"] == ["close"] && closed.text == "hello world")
            #expect(closing.readsEOF())
            let head = try RawHTTPClient(port: port)
            try head.send("HEAD /length HTTP/1.1\r\nHost: x\r\n\r\n")
            let headResponse = try head.readResponse(method: "HEAD")
            #expect(headResponse.head.headers["Content-Length"] == ["4"] && headResponse.body.isEmpty)
            // A body without a length runs until the connection closes, which the responder says.
            let untilClose = try RawHTTPClient(port: port)
            try untilClose.send(HTTPServerTests.get("/close-delimited"))
            let closeDelimited = try untilClose.readResponse()
            #expect(closeDelimited.text == "to the end")
            #expect(closeDelimited.head.headers["Connection"] == ["close"])
            #expect(untilClose.readsEOF())
        }
    }
}
