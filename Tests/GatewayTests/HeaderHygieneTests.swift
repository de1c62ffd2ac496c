import Foundation
import HTTP1
import Network
import Testing
@testable import Gateway

@Suite("Header hygiene and byte-for-byte forwarding", .serialized)
struct HeaderHygieneTests {
    @Test("a body that is not UTF-8 arrives byte for byte on any method; links are rewritten, cookies dropped")
    func bytesAndLinks() async throws {
        let upstream = try RecordingUpstream()
        let harness = try GatewayHarness(upstreamPort: upstream.port)
        let key = try harness.issueAPIKey()
        let body: [UInt8] = [0xFF, 0xFE, 0x00, 0x41, 0xC3, 0x28, 0x0D, 0x0A, 0x80]
        let response = await harness.send("POST", "/tas/api/incidents/number/I%201602%20001?x=%2B+y", key: key,
                                          headers: [("Cookie", "client=1"), ("X-Forwarded-For", "6.6.6.6")],
                                          body: body)
        // The `topdesk` Python client sends `null` with a GET.
        let getWithBody = await harness.send("GET", "/tas/api/incidents", key: key, body: Array("null".utf8))
        let recordedGet = upstream.lastRequest
        _ = await harness.stop()
        upstream.stop()

        #expect(response.status == 201)
        #expect(response.body == body)
        #expect(response.headers.first(name: "Set-Cookie") == nil)
        #expect(response.headers.first(name: "X-Upstream-Hop") == nil)
        #expect(response.headers.first(name: "Location")
                == "https://127.0.0.1:\(harness.ports.client)/tas/api/incidents/id/42")
        #expect(response.headers.first(name: "X-Next-Page-URL")
                == "https://127.0.0.1:\(harness.ports.client)/tas/api/incidents?start=10")
        #expect(getWithBody.status == 201)
        #expect(getWithBody.body == Array("null".utf8))
        #expect(recordedGet?.body == Array("null".utf8))
        #expect(recordedGet?.head.headers.first(name: "Authorization") == "TOKEN id=\"\(RecordingUpstream.token)\"")
    }

    @Test("an upstream length given as a list or named in Connection, and a HEAD, go through with the right framing")
    func unusualFraming() async throws {
        let upstream = try RecordingUpstream()
        let harness = try GatewayHarness(upstreamPort: upstream.port)
        let key = try harness.issueAPIKey()
        let list = await harness.send("GET", "/tas/api/length-list", key: key)
        let hopLength = await harness.send("GET", "/tas/api/hop-length", key: key)
        let head = await harness.send("HEAD", "/tas/api/incidents", key: key)
        let after = await harness.send("GET", "/tas/api/incidents", key: key, body: Array("x".utf8))
        _ = await harness.stop()
        upstream.stop()

        #expect(list.status == 200 && list.body == Array("abc".utf8))
        #expect(list.headers.first(name: "X-Kind") == "list")
        #expect(list.headers.first(name: "X-Request-ID") != nil)
        // The length the upstream marked hop-by-hop is gone; the body is framed chunked instead.
        #expect(hopLength.status == 200 && hopLength.body == Array("hello".utf8))
        #expect(hopLength.headers.first(name: "Content-Length") == nil)
        #expect(hopLength.headers.first(name: "Transfer-Encoding") == "chunked")
        #expect(head.status == 201 && head.body.isEmpty)
        #expect(head.headers.first(name: "Transfer-Encoding") == nil)
        #expect(after.status == 201 && after.body == Array("x".utf8))
    }

    @Test("the forwarded target keeps %20 and the query exactly; forged forwarding headers are replaced")
    func targetAndForwarding() async throws {
        let upstream = try RecordingUpstream()
        let harness = try GatewayHarness(upstreamPort: upstream.port)
        let key = try harness.issueAPIKey()
        _ = await harness.send("PUT", "/tas/api/incidents/number/I%201602%20001?x=%2B+y", key: key,
                               headers: [("Cookie", "client=1"), ("X-Forwarded-For", "6.6.6.6"),
                                         ("X-Request-ID", "client-chosen-id.1")],
                               body: [0xC3, 0x28])
        let recorded = upstream.lastRequest
        _ = await harness.stop()
        upstream.stop()
        let headers = try #require(recorded?.head.headers)
        #expect(recorded?.head.target == "/tas/api/incidents/number/I%201602%20001?x=%2B+y")
        #expect(recorded?.body == [0xC3, 0x28])
        #expect(headers.first(name: "Cookie") == nil)
        #expect(headers.first(name: "X-API-Key") == nil)
        #expect(headers["X-Forwarded-For"] == ["127.0.0.1"])
        #expect(headers.first(name: "X-Forwarded-Proto") == "https")
        #expect(headers.first(name: "X-Request-ID") == "client-chosen-id.1")
        #expect(headers.first(name: "Host") == "127.0.0.1:\(upstream.port)")
    }
}

@Suite("Response streaming", .serialized)
struct ResponseStreamingTests {
    @Test("a large chunked upstream body streams through whole, re-framed chunked")
    func largeBody() async throws {
        let upstream = try RecordingUpstream()
        let harness = try GatewayHarness(upstreamPort: upstream.port)
        let key = try harness.issueAPIKey()
        let response = await harness.send("GET", "/tas/api/big", key: key)
        let log = await harness.accessLog(atLeast: 1).last
        _ = await harness.stop()
        upstream.stop()
        #expect(response.status == 200)
        #expect(response.headers.first(name: "Transfer-Encoding") == "chunked")
        #expect(response.body.count == RecordingUpstream.largeBodySize)
        let mismatch = response.body.indices.first { response.body[$0] != RecordingUpstream.largeBodyByte(at: $0) }
        #expect(mismatch == nil)
        #expect(log?["bytes"] as? Int == RecordingUpstream.largeBodySize)
        #expect(log?["termination"] as? String == "ok")
    }

    @Test("an HTTP/1.0 client gets a body without a length as it can read it: until the connection closes")
    func http10ClientNeverGetsChunked() async throws {
        let upstream = try RecordingUpstream()
        let harness = try GatewayHarness(upstreamPort: upstream.port)
        let key = try harness.issueAPIKey()
        let response = await harness.send("GET", "/tas/api/big", key: key, version: .http1_0)
        let log = await harness.accessLog(atLeast: 1).last
        _ = await harness.stop()
        upstream.stop()
        #expect(response.status == 200)
        #expect(response.headers.first(name: "Transfer-Encoding") == nil)
        #expect(response.headers.first(name: "Content-Length") == nil)
        #expect(response.body.count == RecordingUpstream.largeBodySize)
        #expect(log?["termination"] as? String == "ok")
    }

    @Test("an upstream's 101 Switching Protocols becomes a 502 JSON; the next request is served")
    func unaskedUpgrade() async throws {
        let upstream = try RecordingUpstream()
        let harness = try GatewayHarness(upstreamPort: upstream.port)
        let key = try harness.issueAPIKey()
        let switched = await harness.send("GET", "/tas/api/switch", key: key, headers: [("Upgrade", "websocket")])
        let next = await harness.send("POST", "/tas/api/incidents", key: key, body: Array("after".utf8))
        let log = await harness.accessLog(atLeast: 2)
        _ = await harness.stop()
        upstream.stop()
        #expect(switched.status == 502)
        #expect(switched.json?["error"] as? String == "upstream error")
        #expect((switched.json?["detail"] as? String)?.contains("101") == true)
        #expect(switched.headers.first(name: "Upgrade") == nil)
        #expect(next.status == 201)
        #expect(next.body == Array("after".utf8))
        #expect(log.first?["status"] as? Int == 502)
    }

    @Test("a client that goes away mid-response is logged as aborted and the upstream exchange ends")
    func clientGoesAway() async throws {
        let upstream = try RecordingUpstream()
        let harness = try GatewayHarness(upstreamPort: upstream.port)
        let key = try harness.issueAPIKey()
        let quitter = QuittingDelegate()
        let loop = harness.client.group.next()
        let client = harness.client.client
        let hostHeader = harness.client.hostHeader
        loop.execute {
            let head = HTTPRequestHead(method: "GET", target: "/tas/api/big",
                                       headers: HTTPHeaders([("Host", hostHeader), ("X-API-Key", key)]))
            client.execute(head, body: [], on: loop, delegate: quitter)
        }
        let log = await harness.accessLog(atLeast: 1).last
        for _ in 0..<200 where upstream.cutStreams.value == 0 { try await Task.sleep(for: .milliseconds(10)) }
        let cut = upstream.cutStreams.value
        _ = await harness.stop()
        upstream.stop()
        #expect(cut == 1, "the gateway did not abandon the upstream exchange")
        #expect(quitter.receivedBytes.value > 0)
        #expect(quitter.receivedBytes.value < RecordingUpstream.largeBodySize)
        #expect(log?["termination"] as? String == "clientAborted")
        #expect(log?["status"] as? Int == 200)
    }
}

/// Reads the first piece of a body, then abandons the exchange (its connection closes).
final class QuittingDelegate: HTTPClientResponseDelegate, @unchecked Sendable {
    let receivedBytes = Shared(0)
    private var control: HTTPClientStreamControl?

    func responseHead(_ head: HTTPResponseHead, control: HTTPClientStreamControl) {
        self.control = control
    }

    func responseBody(_ bytes: [UInt8]) {
        receivedBytes.update { $0 += bytes.count }
        control?.cancel()
        control = nil
    }

    func responseEnd(trailers: HTTPHeaders?) {}
    func responseFailed(_ error: HTTPClientError) {}
}
