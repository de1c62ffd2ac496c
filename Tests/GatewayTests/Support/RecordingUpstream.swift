import HTTP1
import Network
import Foundation
import Synchronization

/// A plain HTTP upstream on 127.0.0.1 port 0 that speaks just enough of the legacy login to
/// issue one token, and answers every other request with what the simulator never sends: a
/// `Set-Cookie`, a `Location` pointing at its own origin, and the request body echoed byte for byte.
/// It keeps the last forwarded request whole (the simulator's control listener reports only the
/// body's size). Each login issues a new token and kills the one before; `restart()` kills the
/// current one too. `/tas/api/refused` answers 401 to any token, as an install may for a path.
final class RecordingUpstream: HTTPServerHandler, @unchecked Sendable {
    struct Recorded: Sendable {
        var head: HTTPRequestHead
        var body: [UInt8]
    }

    static let token = "rec-0f83ee44-5ff7-462f-9cf5-855c455a4bca"

    private struct Tokens {
        var logins = 0
        var current: String?
        var checks = 0
    }

    private let last = Mutex<Recorded?>(nil)
    private let tokens = Mutex(Tokens())
    /// Large-body responses whose connection closed before they were complete.
    let cutStreams = Shared(0)
    private let group = EventLoopGroup(loopCount: 1)
    private var server: HTTPServer!
    private(set) var port = 0

    init() throws {
        let address = try SocketAddress(host: "127.0.0.1", port: 0)
        server = HTTPServer(configuration: HTTPServerConfiguration(address: address), group: group, handler: self)
        port = try server.start()
    }

    var lastRequest: Recorded? { last.withLock { $0 } }
    var logins: Int { tokens.withLock { $0.logins } }
    /// Requests to `/tas/api/operators/current`: the gateway asking whether a token still works.
    var tokenChecks: Int { tokens.withLock { $0.checks } }

    /// Every token dies, as at a restart of the install.
    func restart() {
        tokens.withLock { $0.current = nil }
    }

    func handle(_ request: HTTPServerRequest, responder: HTTPResponder) {
        if request.head.target.hasSuffix("/tas/api/login/operator") {
            let token = tokens.withLock { tokens in
                tokens.logins += 1
                let token = tokens.logins == 1 ? Self.token : "\(Self.token)-\(tokens.logins)"
                tokens.current = token
                return token
            }
            responder.respond(HTTPResponseHead(status: 200, headers: ["Content-Type": "text/plain"]),
                              body: Array(token.utf8))
            return
        }
        let presented = request.head.headers.first(name: "Authorization")
        let alive = tokens.withLock { tokens in
            if request.head.target.hasSuffix("/tas/api/operators/current") { tokens.checks += 1 }
            return tokens.current.map { presented == "TOKEN id=\"\($0)\"" } ?? false
        }
        if !alive || request.head.target.hasPrefix("/tas/api/refused") {
            responder.respond(HTTPResponseHead(status: 401, headers: ["Content-Type": "text/plain"]),
                              body: Array("Invalid authentication token".utf8))
            return
        }
        if request.head.target.hasSuffix("/tas/api/operators/current") {
            responder.respond(HTTPResponseHead(status: 200, headers: ["Content-Type": "application/json"]),
                              body: Array("{\"id\":\"751E0A70-5B2B-572D-8CAE-99F52651B6D0\"}".utf8))
            return
        }
        if request.head.target.hasSuffix("/tas/api/logout") {
            responder.respond(HTTPResponseHead(status: 200), body: [])
            return
        }
        if request.head.target.hasPrefix("/tas/api/switch") {
            responder.respond(HTTPResponseHead(status: 101, headers: ["Upgrade": "websocket", "Connection": "Upgrade"]),
                              body: [])
            return
        }
        if request.head.target.hasPrefix("/tas/api/length-list") {
            // A length given as a list of equal values (RFC 9110 section 8.6), which the gateway
            // passes on as it came.
            responder.respond(HTTPResponseHead(status: 200, headers: ["Content-Length": "3, 3", "X-Kind": "list"]),
                              body: Array("abc".utf8))
            return
        }
        if request.head.target.hasPrefix("/tas/api/hop-length") {
            // `Connection` names Content-Length: that field is hop-by-hop now and does not reach
            // the client, so the gateway must frame the body some other way.
            responder.respond(HTTPResponseHead(status: 200, headers: ["Content-Length": "5",
                                                                      "Connection": "Content-Length"]),
                              body: Array("hello".utf8))
            return
        }
        if request.head.target.hasPrefix("/tas/api/big") {
            streamLargeBody(to: responder)
            return
        }
        last.withLock { $0 = Recorded(head: request.head, body: request.body) }
        let origin = "http://" + (request.head.headers.first(name: "Host") ?? "127.0.0.1")
        let headers: HTTPHeaders = [
            "Content-Type": "application/octet-stream",
            "Set-Cookie": "JSESSIONID=upstream-session; Path=/tas",
            "Location": origin + "/tas/api/incidents/id/42",
            "X-Next-Page-URL": origin + "/tas/api/incidents?start=10",
            "Connection": "keep-alive, X-Upstream-Hop",
            "X-Upstream-Hop": "dropped",
        ]
        responder.respond(HTTPResponseHead(status: 201, headers: headers), body: request.body)
    }

    /// Bytes of the large body at `/tas/api/big`: a pattern a test can check position by position.
    static let largeBodySize = 4 * 1024 * 1024 + 17

    static func largeBodyByte(at offset: Int) -> UInt8 { UInt8(truncatingIfNeeded: offset &* 31 &+ offset >> 11) }

    /// Streams `largeBodySize` bytes chunked (no Content-Length), as fast as the gateway reads.
    private func streamLargeBody(to responder: HTTPResponder) {
        let stream = LargeBodyStream(responder: responder, cutStreams: cutStreams)
        responder.observer = stream
        responder.sendHead(HTTPResponseHead(status: 200, headers: ["Content-Type": "application/octet-stream",
                                                                    "Transfer-Encoding": "chunked"]))
        stream.pump()
    }

    /// Sends the large body as fast as the responder takes it, resuming when it becomes writable.
    private final class LargeBodyStream: HTTPResponderObserver {
        let responder: HTTPResponder
        let cutStreams: Shared<Int>
        var offset = 0

        init(responder: HTTPResponder, cutStreams: Shared<Int>) {
            self.responder = responder
            self.cutStreams = cutStreams
        }

        func pump() {
            while offset < RecordingUpstream.largeBodySize {
                let end = min(offset + 65_536, RecordingUpstream.largeBodySize)
                responder.sendBody((offset..<end).map(RecordingUpstream.largeBodyByte))
                offset = end
                if !responder.isWritable { return }  // `responderBecameWritable` goes on
            }
            responder.observer = nil
            responder.sendEnd()
        }

        func responderBecameWritable() { pump() }
        func responderLostClient() { cutStreams.update { $0 += 1 } }
    }

    func stop() {
        let server = self.server!
        let group = self.group
        let done = Mutex(false)
        server.stop(grace: .milliseconds(100)) { done.withLock { $0 = true } }
        for _ in 0..<100 where !done.withLock({ $0 }) { Thread.sleep(forTimeInterval: 0.01) }
        group.shutdown()
    }
}
