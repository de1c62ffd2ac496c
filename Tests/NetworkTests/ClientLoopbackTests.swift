import Dispatch
import Glibc
import HTTP1
import Synchronization
import Testing
@testable import Network

/// Runs one request through `client` on `loop` and waits for the whole response.
func clientFetch(_ client: HTTPClient, on loop: EventLoop, _ method: String = "GET", _ target: String = "/",
                 headers: HTTPHeaders = ["Host": "upstream"], body: [UInt8] = [])
    async -> Result<HTTPClientResponse, HTTPClientError> {
    await withCheckedContinuation { continuation in
        loop.execute {
            let head = HTTPRequestHead(method: method, target: target, headers: headers)
            client.execute(head, body: body, on: loop) { continuation.resume(returning: $0) }
        }
    }
}

/// A client on its own one-loop group, with short timeouts so that no test can wait long.
func makeTestClient(port: Int, _ adjust: (inout HTTPClientConfiguration) -> Void = { _ in })
    -> (HTTPClient, EventLoopGroup) {
    let group = EventLoopGroup(loopCount: 1)
    var configuration = HTTPClientConfiguration(host: "127.0.0.1", port: port)
    configuration.connectTimeout = .seconds(2)
    configuration.responseTimeout = .seconds(5)
    adjust(&configuration)
    return (HTTPClient(configuration: configuration, group: group), group)
}

extension Result where Success == HTTPClientResponse, Failure == HTTPClientError {
    var bodyText: String? { (try? get()).map { String(decoding: $0.body, as: UTF8.self) } }
    var failure: HTTPClientError? {
        if case .failure(let error) = self { return error }
        return nil
    }
}

@Suite("HTTP client over loopback", .serialized)
struct ClientLoopbackTests {
    @Test("two requests in a row share one keep-alive connection")
    func keepAliveReuse() async throws {
        let upstream = try ClientTestUpstream { connection, _ in
            while let request = connection.readRequest() {
                let text = request.head.split(separator: " ")[1]
                connection.write("HTTP/1.1 200 OK\r\nContent-Length: \(text.utf8.count)\r\n\r\n\(text)")
            }
        }
        defer { upstream.stop() }
        let (client, group) = makeTestClient(port: upstream.port)
        defer { client.shutdown(); group.shutdown() }
        let loop = group.loops[0]

        #expect(await clientFetch(client, on: loop, "GET", "/one").bodyText == "/one")
        #expect(await clientFetch(client, on: loop, "POST", "/two", body: Array("x".utf8)).bodyText == "/two")
        #expect(upstream.acceptCount == 1)
    }

    @Test("the request goes out with Content-Length and no header the caller did not set")
    func requestFraming() async throws {
        let seen = Mutex<[String]>([])
        let upstream = try ClientTestUpstream { connection, _ in
            while let request = connection.readRequest() {
                seen.withLock { $0.append(request.head + "|" + String(decoding: request.body, as: UTF8.self)) }
                connection.write("HTTP/1.1 204 No Content\r\n\r\n")
            }
        }
        defer { upstream.stop() }
        let (client, group) = makeTestClient(port: upstream.port)
        defer { client.shutdown(); group.shutdown() }
        let loop = group.loops[0]

        _ = await clientFetch(client, on: loop, "GET", "/a")
        _ = await clientFetch(client, on: loop, "PUT", "/b", body: Array("hello".utf8))
        #expect(seen.withLock { $0 } == ["GET /a HTTP/1.1\r\nHost: upstream|",
                                         "PUT /b HTTP/1.1\r\nHost: upstream\r\nContent-Length: 5|hello"])
    }

    @Test("a head in wire form goes out byte for byte with its body, and the connection is reused when it allows")
    func wireHead() async throws {
        let seen = Mutex<[String]>([])
        let upstream = try ClientTestUpstream { connection, _ in
            while let request = connection.readRequest() {
                seen.withLock { $0.append(request.head + "|" + String(decoding: request.body, as: UTF8.self)) }
                connection.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            }
        }
        defer { upstream.stop() }
        let (client, group) = makeTestClient(port: upstream.port)
        defer { client.shutdown(); group.shutdown() }
        let loop = group.loops[0]

        func send(_ text: String, body: String,
                  keepAlive: Bool = true) async -> Result<HTTPClientResponse, HTTPClientError> {
            let method = String(text.prefix { $0 != " " })
            let head = HTTPWireRequestHead(method: method, bytes: Array(text.utf8), keepAlive: keepAlive)
            return await withCheckedContinuation { continuation in
                loop.execute {
                    let delegate = HTTPClientCollectingDelegate(maxBodyBytes: 1024) {
                        continuation.resume(returning: $0)
                    }
                    client.execute(wireHead: head, body: Array(body.utf8), on: loop, delegate: delegate)
                }
            }
        }
        #expect(await send("GET /a HTTP/1.1\r\nHost: upstream\r\nx-Odd:  kept as written \r\n\r\n", body: "")
            .bodyText == "ok")
        #expect(await send("POST /b HTTP/1.1\r\nHost: upstream\r\nContent-Length: 3\r\n\r\n", body: "abc")
            .bodyText == "ok")
        #expect(upstream.acceptCount == 1)
        #expect(seen.withLock { $0 } == ["GET /a HTTP/1.1\r\nHost: upstream\r\nx-Odd:  kept as written |",
                                         "POST /b HTTP/1.1\r\nHost: upstream\r\nContent-Length: 3|abc"])
        // A head that does not allow reuse leaves the connection to close: the next one is new.
        #expect(await send("GET /c HTTP/1.1\r\nHost: upstream\r\nConnection: close\r\n\r\n", body: "",
                           keepAlive: false).bodyText == "ok")
        #expect(await send("GET /d HTTP/1.1\r\nHost: upstream\r\n\r\n", body: "").bodyText == "ok")
        #expect(upstream.acceptCount == 2)
    }

    @Test("an upstream closing a pooled connection while idle costs the next request nothing")
    func idleConnectionClosedByUpstream() async throws {
        let upstream = try ClientTestUpstream { connection, _ in
            guard connection.readRequest() != nil else { return }
            connection.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            // Then close while the connection idles in the client's pool.
        }
        defer { upstream.stop() }
        let (client, group) = makeTestClient(port: upstream.port)
        defer { client.shutdown(); group.shutdown() }
        let loop = group.loops[0]

        #expect(await clientFetch(client, on: loop).bodyText == "ok")
        // The pool watches idle connections and drops one as soon as the upstream closes it.
        var connections = 1
        for _ in 0..<100 where connections > 0 {
            try await Task.sleep(for: .milliseconds(10))
            connections = try loop.runAndWait { client.pool(for: loop).connectionCount }
        }
        #expect(connections == 0)
        #expect(await clientFetch(client, on: loop).bodyText == "ok")
        #expect(upstream.acceptCount == 2)
    }

    /// Closes the pooled connection on the upstream's side while the client's loop is busy, so the
    /// next request leases it before the loop has seen the close.
    static func leaseJustClosedConnection(method: String) async throws -> (Result<HTTPClientResponse, HTTPClientError>,
                                                                         accepts: Int, requests: Int) {
        let closeNow = DispatchSemaphore(value: 0)
        let closed = DispatchSemaphore(value: 0)
        let requests = Mutex(0)
        let upstream = try ClientTestUpstream { connection, index in
            if index == 0 {
                guard connection.readRequest() != nil else { return }
                requests.withLock { $0 += 1 }
                connection.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst")
                closeNow.wait()
                connection.close()
                closed.signal()
            } else {
                while connection.readRequest() != nil {
                    requests.withLock { $0 += 1 }
                    connection.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh")
                }
            }
        }
        defer { upstream.stop() }
        let (client, group) = makeTestClient(port: upstream.port)
        defer { client.shutdown(); group.shutdown() }
        let loop = group.loops[0]

        #expect(await clientFetch(client, on: loop).bodyText == "first")
        let result = await withCheckedContinuation { continuation in
            loop.execute {
                // All in one loop pass: the FIN arrives, but epoll reports it only after the lease.
                closeNow.signal()
                closed.wait()
                usleep(20_000)
                let head = HTTPRequestHead(method: method, target: "/", headers: ["Host": "upstream"])
                client.execute(head, body: [1], on: loop) { continuation.resume(returning: $0) }
            }
        }
        return (result, upstream.acceptCount, requests.withLock { $0 })
    }

    @Test("a GET leasing a connection the upstream closed a moment ago is retried on a fresh connection")
    func justClosedConnectionRetriesGET() async throws {
        let (result, accepts, requests) = try await Self.leaseJustClosedConnection(method: "GET")
        #expect(result.bodyText == "fresh")
        #expect(accepts == 2)
        #expect(requests == 2)
    }

    @Test("a POST leasing a connection the upstream closed a moment ago sees the close and takes a fresh one")
    func justClosedConnectionProbedForPOST() async throws {
        let (result, accepts, requests) = try await Self.leaseJustClosedConnection(method: "POST")
        #expect(result.bodyText == "fresh")
        #expect(accepts == 2)
        #expect(requests == 2)
    }

    @Test("a reused connection that fails before any response byte is retried once, on a fresh connection")
    func retryOnFreshConnection() async throws {
        let upstream = try ClientTestUpstream { connection, index in
            if index == 0 {
                guard connection.readRequest() != nil else { return }
                connection.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst")
                // The second request arrives and the connection dies without a byte in reply.
                guard connection.readRequest() != nil else { return }
                connection.reset()
            } else {
                guard connection.readRequest() != nil else { return }
                connection.write("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nretried")
            }
        }
        defer { upstream.stop() }
        let (client, group) = makeTestClient(port: upstream.port)
        defer { client.shutdown(); group.shutdown() }
        let loop = group.loops[0]

        #expect(await clientFetch(client, on: loop).bodyText == "first")
        #expect(await clientFetch(client, on: loop, "PUT", "/", body: [1, 2, 3]).bodyText == "retried")
        #expect(upstream.acceptCount == 2)
    }

    @Test("a POST the upstream may have read is reported, not sent twice, when its reused connection fails")
    func postNotResentAfterWrite() async throws {
        let posts = Mutex(0)
        let upstream = try ClientTestUpstream { connection, index in
            guard connection.readRequest() != nil else { return }
            connection.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst")
            // The POST arrives whole and the connection dies without a byte in reply.
            guard connection.readRequest() != nil else { return }
            posts.withLock { $0 += 1 }
            connection.reset()
        }
        defer { upstream.stop() }
        let (client, group) = makeTestClient(port: upstream.port)
        defer { client.shutdown(); group.shutdown() }
        let loop = group.loops[0]

        #expect(await clientFetch(client, on: loop).bodyText == "first")
        let failure = await clientFetch(client, on: loop, "POST", "/tas/api/incidents", body: [1, 2, 3]).failure
        #expect(failure?.kind == .connectionClosed)
        try await Task.sleep(for: .milliseconds(100))
        #expect(upstream.acceptCount == 1)
        #expect(posts.withLock { $0 } == 1)
    }

    @Test("a retry that fails too is reported, and not retried again")
    func retryOnlyOnce() async throws {
        let requests = Mutex(0)
        let upstream = try ClientTestUpstream { connection, index in
            if index == 0 {
                guard connection.readRequest() != nil else { return }
                connection.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            }
            while connection.readRequest() != nil {
                requests.withLock { $0 += 1 }
                connection.close()
                return
            }
        }
        defer { upstream.stop() }
        let (client, group) = makeTestClient(port: upstream.port)
        defer { client.shutdown(); group.shutdown() }
        let loop = group.loops[0]

        #expect(await clientFetch(client, on: loop).bodyText == "ok")
        let failure = await clientFetch(client, on: loop).failure
        #expect(failure?.kind == .connectionClosed)
        #expect(failure?.receivedResponseBytes == false)
        try await Task.sleep(for: .milliseconds(100))
        #expect(upstream.acceptCount == 2)
        #expect(requests.withLock { $0 } == 2)
    }

    @Test("a failure after response bytes arrived is reported, not retried")
    func noRetryAfterResponseBytes() async throws {
        let upstream = try ClientTestUpstream { connection, _ in
            guard connection.readRequest() != nil else { return }
            connection.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            guard connection.readRequest() != nil else { return }
            connection.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
            connection.close()
        }
        defer { upstream.stop() }
        let (client, group) = makeTestClient(port: upstream.port)
        defer { client.shutdown(); group.shutdown() }
        let loop = group.loops[0]

        #expect(await clientFetch(client, on: loop).bodyText == "ok")
        let failure = await clientFetch(client, on: loop).failure
        #expect(failure?.kind == .connectionClosed)
        #expect(failure?.receivedResponseBytes == true)
        try await Task.sleep(for: .milliseconds(100))
        #expect(upstream.acceptCount == 1)
    }

    @Test("connecting to a port nobody listens on fails with connectFailed")
    func connectRefused() async throws {
        // Bind a port, then close it: nothing listens there afterwards.
        let upstream = try ClientTestUpstream { _, _ in }
        let port = upstream.port
        upstream.stop()
        let (client, group) = makeTestClient(port: port)
        defer { client.shutdown(); group.shutdown() }

        let failure = await clientFetch(client, on: group.loops[0]).failure
        #expect(failure?.kind == .connectFailed)
        #expect(failure?.detail.contains("connect") == true)
        #expect(failure?.receivedResponseBytes == false)
    }

    @Test("an upstream that does not answer in time fails the request with a timeout")
    func responseTimeout() async throws {
        let upstream = try ClientTestUpstream { connection, _ in
            guard connection.readRequest() != nil else { return }
            _ = connection.waitForClose()
        }
        defer { upstream.stop() }
        let (client, group) = makeTestClient(port: upstream.port) { $0.responseTimeout = .milliseconds(300) }
        defer { client.shutdown(); group.shutdown() }

        let started = ContinuousClock.now
        let failure = await clientFetch(client, on: group.loops[0]).failure
        #expect(failure?.kind == .timeout)
        #expect(ContinuousClock.now - started < .seconds(3))
    }

    @Test("a chunked response is decoded and its connection reused")
    func chunkedResponse() async throws {
        let upstream = try ClientTestUpstream { connection, _ in
            while connection.readRequest() != nil {
                connection.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                connection.write("5\r\nhello\r\n")
                connection.write("7;ext=1\r\n, world\r\n0\r\nX-Trailer: yes\r\n\r\n")
            }
        }
        defer { upstream.stop() }
        let (client, group) = makeTestClient(port: upstream.port)
        defer { client.shutdown(); group.shutdown() }
        let loop = group.loops[0]

        #expect(await clientFetch(client, on: loop).bodyText == "hello, world")
        #expect(await clientFetch(client, on: loop).bodyText == "hello, world")
        #expect(upstream.acceptCount == 1)
    }

    @Test("a HEAD response has no body whatever its Content-Length says")
    func headResponse() async throws {
        let upstream = try ClientTestUpstream { connection, _ in
            while let request = connection.readRequest() {
                if request.head.hasPrefix("HEAD") {
                    connection.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
                } else {
                    connection.write("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nget")
                }
            }
        }
        defer { upstream.stop() }
        let (client, group) = makeTestClient(port: upstream.port)
        defer { client.shutdown(); group.shutdown() }
        let loop = group.loops[0]

        let head = await clientFetch(client, on: loop, "HEAD")
        #expect(try head.get().head.headers.first(name: "Content-Length") == "1000")
        #expect(head.bodyText == "")
        #expect(await clientFetch(client, on: loop).bodyText == "get")
        #expect(upstream.acceptCount == 1)
    }

    @Test("a response saying Connection: close ends its connection, and a close-delimited body is read to EOF")
    func connectionCloseAndCloseDelimited() async throws {
        let upstream = try ClientTestUpstream { connection, index in
            guard connection.readRequest() != nil else { return }
            if index == 0 {
                connection.write("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\none")
            } else {
                connection.write("HTTP/1.1 200 OK\r\n\r\nuntil close")
                connection.close()
            }
        }
        defer { upstream.stop() }
        let (client, group) = makeTestClient(port: upstream.port)
        defer { client.shutdown(); group.shutdown() }
        let loop = group.loops[0]

        #expect(await clientFetch(client, on: loop).bodyText == "one")
        #expect(await clientFetch(client, on: loop).bodyText == "until close")
        #expect(upstream.acceptCount == 2)
        #expect(try loop.runAndWait { client.pool(for: loop).connectionCount } == 0)
    }

    @Test("requests beyond maxConnectionsPerLoop wait for a connection and all complete")
    func connectionCapWithWaiters() async throws {
        let active = Mutex((now: 0, peak: 0))
        // The upstream holds every request until the test has seen the queue, so a slow start of
        // the client tasks on a loaded machine cannot empty the queue before it is looked at.
        let gate = DispatchSemaphore(value: 0)
        let upstream = try ClientTestUpstream { connection, _ in
            while connection.readRequest() != nil {
                active.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) }
                _ = gate.wait(timeout: .now() + 10)
                active.withLock { $0.now -= 1 }
                connection.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            }
        }
        defer { upstream.stop() }
        let (client, group) = makeTestClient(port: upstream.port) { $0.maxConnectionsPerLoop = 2 }
        defer { client.shutdown(); group.shutdown() }
        let loop = group.loops[0]

        let waiting = try await withThrowingTaskGroup(of: String?.self) { tasks in
            for _ in 0..<6 { tasks.addTask { await clientFetch(client, on: loop).bodyText } }
            // While the first two are held by the upstream, the other four wait in the queue.
            var waiting = 0
            let deadline = ContinuousClock.now + .seconds(5)
            while waiting < 4, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
                waiting = try loop.runAndWait { client.pool(for: loop).waiterCount }
            }
            try await Task.sleep(for: .milliseconds(50))  // nothing more may arrive: 6 is all there is
            waiting = try loop.runAndWait { client.pool(for: loop).waiterCount }
            for _ in 0..<6 { gate.signal() }
            for try await body in tasks { #expect(body == "ok") }
            return waiting
        }
        #expect(waiting == 4)
        #expect(upstream.acceptCount == 2)
        #expect(active.withLock { $0.peak } == 2)
    }

    @Test("a queued request that gets no connection within the queue timeout fails with a timeout")
    func queueTimeout() async throws {
        let upstream = try ClientTestUpstream { connection, _ in
            guard connection.readRequest() != nil else { return }
            usleep(500_000)
            connection.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        }
        defer { upstream.stop() }
        let (client, group) = makeTestClient(port: upstream.port) {
            $0.maxConnectionsPerLoop = 1
            $0.queueTimeout = .milliseconds(100)
        }
        defer { client.shutdown(); group.shutdown() }
        let loop = group.loops[0]

        async let first = clientFetch(client, on: loop)
        try await Task.sleep(for: .milliseconds(20))
        let second = await clientFetch(client, on: loop)
        #expect(second.failure?.kind == .timeout)
        #expect(await first.bodyText == "ok")
    }

    @Test("a response over maxBufferedResponseBytes fails with protocolError and its connection closes")
    func bufferedResponseCap() async throws {
        let upstream = try ClientTestUpstream { connection, _ in
            while connection.readRequest() != nil {
                // The head arrives in two pieces, so the client parses from its carry-over buffer.
                connection.write("HTTP/1.1 200 OK\r\nContent-")
                usleep(20_000)
                connection.write("Length: 100\r\n\r\n" + String(repeating: "z", count: 100))
            }
        }
        defer { upstream.stop() }
        let (client, group) = makeTestClient(port: upstream.port) { $0.maxBufferedResponseBytes = 10 }
        defer { client.shutdown(); group.shutdown() }
        let loop = group.loops[0]

        let failure = await clientFetch(client, on: loop).failure
        #expect(failure?.kind == .protocolError)
        #expect(failure?.receivedResponseBytes == true)
        #expect(try loop.runAndWait { client.pool(for: loop).connectionCount } == 0)
        #expect(await clientFetch(client, on: loop).failure?.kind == .protocolError)
        #expect(upstream.acceptCount == 2)
    }

    @Test("pausing reading stops reading the upstream socket until resumed")
    func pauseAndResume() async throws {
        let total = 16 * 1024 * 1024
        let sent = Atomic<Int>(0)
        let upstream = try ClientTestUpstream { connection, _ in
            guard connection.readRequest() != nil else { return }
            connection.write("HTTP/1.1 200 OK\r\nContent-Length: \(total)\r\n\r\n")
            let piece = [UInt8](repeating: 0x61, count: 64 * 1024)
            for _ in 0..<(total / piece.count) {
                connection.write(piece)
                sent.add(piece.count, ordering: .relaxed)
            }
        }
        defer { upstream.stop() }
        let (client, group) = makeTestClient(port: upstream.port)
        defer { client.shutdown(); group.shutdown() }
        let loop = group.loops[0]

        let receiver = PausingReceiver()
        loop.execute {
            client.execute(HTTPRequestHead(method: "GET", target: "/big"), body: [], on: loop, delegate: receiver)
        }
        // Paused at the head: what arrives is at most what one read brought along with it.
        try await Task.sleep(for: .milliseconds(300))
        let whilePaused = receiver.state.withLock { $0.bodyBytes }
        try await Task.sleep(for: .milliseconds(200))
        #expect(receiver.state.withLock { $0.bodyBytes } == whilePaused)
        #expect(whilePaused <= 64 * 1024)
        #expect(sent.load(ordering: .relaxed) < total)

        loop.execute { receiver.resume() }
        for _ in 0..<500 where !receiver.state.withLock({ $0.ended }) {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(receiver.state.withLock { $0.ended })
        #expect(receiver.state.withLock { $0.bodyBytes } == total)
    }
}

/// Pauses reading as soon as the head arrives; `resume()` (on the loop) lets the body through.
final class PausingReceiver: HTTPClientResponseDelegate, @unchecked Sendable {
    let state = Mutex((bodyBytes: 0, ended: false, failed: false))
    private var control: HTTPClientStreamControl?

    func responseHead(_ head: HTTPResponseHead, control: HTTPClientStreamControl) {
        self.control = control
        control.pauseReading()
    }

    func responseBody(_ bytes: [UInt8]) {
        state.withLock { $0.bodyBytes += bytes.count }
    }

    func responseEnd(trailers: HTTPHeaders?) {
        state.withLock { $0.ended = true }
    }

    func responseFailed(_ error: HTTPClientError) {
        state.withLock { $0.failed = true }
    }

    func resume() {
        control?.resumeReading()
    }
}
