import Foundation
import HTTP1
import Network
import Synchronization

/// A whole response as a test sees it.
struct TestResponse: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]
    /// Set when the exchange failed below HTTP.
    var failure: String?

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body parsed as a JSON object (Foundation is fine in tests).
    var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }

    static func failed(_ description: String) -> TestResponse {
        TestResponse(status: 0, headers: HTTPHeaders(), body: [], failure: description)
    }
}

/// Sends requests over real sockets with the project's own client (TLS verified against the test
/// CA), from its own loops, so tests exercise the gateway as a client on the network would.
final class TestHTTPClient: Sendable {
    let group: EventLoopGroup
    let client: HTTPClient
    let hostHeader: String

    init(port: Int, caFile: String?, loopCount: Int = 1, maxConnections: Int = 64) throws {
        group = EventLoopGroup(loopCount: loopCount)
        var configuration = HTTPClientConfiguration(host: "127.0.0.1", port: port,
                                                    tls: try caFile.map { try TLSClientContext(caFile: $0) })
        configuration.maxConnectionsPerLoop = maxConnections
        configuration.responseTimeout = .seconds(20)
        client = HTTPClient(configuration: configuration, group: group)
        hostHeader = "127.0.0.1:\(port)"
    }

    func send(_ method: String, _ target: String, headers: [(String, String)] = [], body: [UInt8] = [],
              version: HTTPVersion = .http1_1) async -> TestResponse {
        var fields = HTTPHeaders([("Host", hostHeader)])
        for (name, value) in headers { fields.add(name: name, value: value) }
        let head = HTTPRequestHead(method: method, target: target, version: version, headers: fields)
        let loop = group.next()
        let client = self.client
        return await withCheckedContinuation { continuation in
            loop.execute {
                client.execute(head, body: body, on: loop) { result in
                    switch result {
                    case .success(let response):
                        continuation.resume(returning: TestResponse(status: response.head.status,
                                                                    headers: response.head.headers,
                                                                    body: response.body))
                    case .failure(let error):
                        continuation.resume(returning: .failed("\(error)"))
                    }
                }
            }
        }
    }

    func shutdown() {
        client.shutdown()
        Thread.sleep(forTimeInterval: 0.05)
        group.shutdown()
    }
}

/// A value shared between concurrent test tasks.
final class Shared<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>

    init(_ value: Value) {
        storage = Mutex(value)
    }

    var value: Value { storage.withLock { $0 } }

    func update(_ change: (inout Value) -> Void) {
        storage.withLock { change(&$0) }
    }
}
