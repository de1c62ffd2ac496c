import COpenSSL
import Foundation
import Glibc
import HTTP1
@testable import Network

/// A blocking test client on a raw socket (optionally TLS through OpenSSL directly), with a
/// receive timeout so no test can hang. Reads responses with the HTTP1 response parser.
final class RawHTTPClient {
    struct Response {
        var head: HTTPResponseHead
        var body: [UInt8]
        var trailers: HTTPHeaders?
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    enum Failure: Error { case connect, closed, timeout, tls([String]) }

    let fd: Int32
    private var ssl: OpaquePointer?
    private var context: OpaquePointer?
    private var parser = HTTPResponseParser()
    private var buffered: [UInt8] = []
    private(set) var interim: [HTTPResponseHead] = []

    init(port: Int, timeoutSeconds: Int = 5, tlsCAFile: String? = nil, resuming session: OpaquePointer? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let address = try SocketAddress(host: "127.0.0.1", port: port)
        // On a throw below, deinit still runs (every property is set) and closes the socket; closing
        // it here too could close a descriptor another test has been handed meanwhile.
        guard address.withSockAddr({ connect(fd, $0, $1) }) == 0 else { throw Failure.connect }
        if let tlsCAFile {
            _ = TLSError.drainErrorQueue()
            let context = SSL_CTX_new(TLS_client_method())!
            self.context = context
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
            SSL_CTX_load_verify_locations(context, tlsCAFile, nil)
            let ssl = SSL_new(context)!
            self.ssl = ssl
            SSL_set_fd(ssl, fd)
            _ = tb_SSL_set_tlsext_host_name(ssl, "localhost")
            SSL_set1_host(ssl, "localhost")
            if let session { SSL_set_session(ssl, session) }
            guard SSL_connect(ssl) == 1 else { throw Failure.tls(TLSError.drainErrorQueue()) }
        }
    }

    deinit {
        if let ssl { SSL_free(ssl) }
        if let context { SSL_CTX_free(context) }
        Glibc.close(fd)
    }

    /// The TLS session to resume later (the caller frees it with SSL_SESSION_free).
    var session: OpaquePointer? { ssl.flatMap { SSL_get1_session($0) } }
    var sessionWasReused: Bool { ssl.map { SSL_session_reused($0) == 1 } ?? false }

    /// The common name of the server certificate (TLS only).
    var peerCommonName: String? {
        guard let ssl, let certificate = SSL_get1_peer_certificate(ssl) else { return nil }
        defer { X509_free(certificate) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let length = buffer.withUnsafeMutableBytes { raw in
            X509_NAME_get_text_by_NID(X509_get_subject_name(certificate), NID_commonName,
                                      raw.baseAddress!.assumingMemoryBound(to: CChar.self), 256)
        }
        return length > 0 ? String(decoding: buffer[..<Int(length)], as: UTF8.self) : nil
    }

    func send(_ text: String) throws {
        try send(Array(text.utf8))
    }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { raw in
                if let ssl { return Int(SSL_write(ssl, raw.baseAddress, Int32(raw.count))) }
                return Glibc.send(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL))
            }
            guard count > 0 else { throw Failure.closed }
            offset += count
        }
    }

    /// Reads some bytes; nil at EOF; throws on timeout.
    func receive(max: Int = 65536) throws -> [UInt8]? {
        var chunk = [UInt8](repeating: 0, count: max)
        let count = chunk.withUnsafeMutableBytes { raw in
            if let ssl { return Int(SSL_read(ssl, raw.baseAddress, Int32(raw.count))) }
            return Glibc.recv(fd, raw.baseAddress, raw.count, 0)
        }
        if count > 0 { return Array(chunk[..<count]) }
        if count == 0 { return nil }
        // A receive timeout shows as EAGAIN (through SSL_read too); anything else is the end.
        if errno == EAGAIN || errno == EWOULDBLOCK { throw Failure.timeout }
        return nil
    }

    /// Reads the response to a request made with `method`.
    func readResponse(method: String = "GET") throws -> Response {
        parser.expectResponse(toMethod: method)
        var head: HTTPResponseHead?
        var body: [UInt8] = []
        var trailers: HTTPHeaders?
        var done = false
        func feed() throws {
            let consumed = try buffered.withUnsafeBytes { raw in
                try parser.parse(raw) { event in
                    switch event {
                    case .informational(let interimHead): interim.append(interimHead)
                    case .head(let responseHead): head = responseHead
                    case .body(let bytes): body.append(contentsOf: bytes)
                    case .end(let responseTrailers):
                        trailers = responseTrailers
                        done = true
                        return .pause
                    }
                    return .proceed
                }
            }
            buffered.removeFirst(consumed)
        }
        try feed()
        while !done {
            guard let bytes = try receive() else {
                try parser.finish { event in
                    if case .end = event { done = true }
                    return .proceed
                }
                guard done, let head else { throw Failure.closed }
                return Response(head: head, body: body, trailers: trailers)
            }
            buffered.append(contentsOf: bytes)
            try feed()
        }
        return Response(head: head!, body: body, trailers: trailers)
    }

    /// Waits for the server to close: true on EOF (or reset), false if data or nothing arrives.
    func readsEOF() -> Bool {
        do {
            while true {
                guard let bytes = try receive() else { return true }
                buffered.append(contentsOf: bytes)
                if !bytes.isEmpty { continue }
            }
        } catch {
            return false
        }
    }
}

/// A handler made of a closure, for tests.
struct ClosureHandler: HTTPServerHandler {
    let handle: @Sendable (HTTPServerRequest, HTTPResponder) -> Void
    /// When set and answering true for a head, the request is refused before its body with a 401.
    var refuses: (@Sendable (HTTPRequestHead) -> Bool)?
    init(_ handle: @escaping @Sendable (HTTPServerRequest, HTTPResponder) -> Void,
         refuses: (@Sendable (HTTPRequestHead) -> Bool)? = nil) {
        self.handle = handle
        self.refuses = refuses
    }
    func handle(_ request: HTTPServerRequest, responder: HTTPResponder) { handle(request, responder) }
    func decideBeforeBody(_ request: HTTPServerRequest) -> HeadDecision {
        guard let refuses, refuses(request.head) else {
            return .readBody(admission: HeadMarker(target: request.head.target))
        }
        return .refuse { responder in
            responder.respond(HTTPResponseHead(status: 401, headers: ["Content-Type": "text/plain"]),
                              body: Array("refused on the head".utf8))
        }
    }
}

/// What `ClosureHandler.decideBeforeBody` hands the server for a body it lets through.
final class HeadMarker {
    let target: String
    init(target: String) { self.target = target }
}

extension HTTPResponseHead {
    static func ok(_ fields: [(String, String)] = []) -> HTTPResponseHead {
        HTTPResponseHead(status: 200, headers: HTTPHeaders(fields))
    }
}

/// Starts a server on 127.0.0.1:0 for the length of `body`, then stops it and its loops.
func withServer(
    loops: Int = 2, tls: TLSServerContext? = nil, configure: (inout HTTPServerConfiguration) -> Void = { _ in },
    handler: @escaping @Sendable (HTTPServerRequest, HTTPResponder) -> Void,
    refuses: (@Sendable (HTTPRequestHead) -> Bool)? = nil,
    _ body: (HTTPServer, Int) throws -> Void
) throws {
    let group = EventLoopGroup(loopCount: loops)
    defer { group.shutdown() }
    var configuration = HTTPServerConfiguration(address: try SocketAddress(host: "127.0.0.1", port: 0), tls: tls)
    configure(&configuration)
    let server = HTTPServer(configuration: configuration, group: group,
                            handler: ClosureHandler(handler, refuses: refuses))
    let port = try server.start()
    defer {
        let stopped = Waiter<Bool>()
        server.stop(grace: .milliseconds(100)) { stopped.record(true) }
        stopped.wait(timeout: 5)
    }
    try body(server, port)
}

/// A responder observer made of closures, for tests.
final class ClosureResponderObserver: HTTPResponderObserver {
    let becameWritable: () -> Void
    let lostClient: () -> Void

    init(becameWritable: @escaping () -> Void = {}, lostClient: @escaping () -> Void = {}) {
        self.becameWritable = becameWritable
        self.lostClient = lostClient
    }

    func responderBecameWritable() { becameWritable() }
    func responderLostClient() { lostClient() }
}
