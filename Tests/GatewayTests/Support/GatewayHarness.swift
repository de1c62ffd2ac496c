import Credentials
import Foundation
import HTTP1
import Network
import TokenPool
@testable import Gateway

/// A gateway on 127.0.0.1 port 0 with real TLS (test CA), a real SQLite credential store in a
/// temporary directory and its log lines captured, in front of the upstream at `upstreamPort`.
final class GatewayHarness: Sendable {
    static let operatorLogin = "api.operator"
    static let operatorPassword = "Operator-Pass-1"

    let directory: String
    let gateway: Gateway
    let ports: Gateway.Ports
    let logs: MemoryLogSink
    let client: TestHTTPClient
    let admin: TestHTTPClient

    /// `adjust` may change the configuration before the gateway is built (timeouts, lifetimes).
    init(upstreamPort: Int, password: String = GatewayHarness.operatorPassword,
         adjust: (inout GatewayConfiguration) -> Void = { _ in }) throws {
        directory = NSTemporaryDirectory() + "tokenbridge-gateway-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let certificates = TestCertificates.shared
        var configuration = GatewayConfiguration()
        configuration.listen.port = 0
        configuration.listen.tls = .init(certificate: certificates.serverChain, privateKey: certificates.serverKey)
        configuration.admin.port = 0
        var upstream = GatewayConfiguration.Upstream(
            name: "td", url: UpstreamURL(scheme: "http", host: "127.0.0.1", port: upstreamPort))
        upstream.connectTimeout = .seconds(2)
        upstream.responseTimeout = .seconds(10)
        configuration.upstreams = [upstream]
        configuration.accounts = [GatewayConfiguration.Account(
            name: "ops", upstream: "td", kind: .operator, login: Self.operatorLogin,
            password: Secret(value: password, source: .literal))]
        configuration.credentials.store = directory + "/credentials.sqlite"
        configuration.shutdown.grace = .seconds(2)
        adjust(&configuration)
        logs = MemoryLogSink()
        gateway = try Gateway(configuration: configuration, logger: GatewayLogger(level: .debug, sink: logs),
                              loopCount: 2)
        ports = try gateway.start()
        client = try TestHTTPClient(port: ports.client, caFile: certificates.caFile)
        admin = try TestHTTPClient(port: ports.admin, caFile: nil)
    }

    func issueAPIKey(client name: String = "integration", scopes: [String] = []) throws -> String {
        let request = CredentialRequest(clientName: name, accountName: "ops", kind: .apiKey,
                                        scopes: try scopes.map { try Scope(parsing: $0) })
        return try gateway.store.create(request).secret
    }

    /// An application password for `login`; returns the password.
    func issueAppPassword(login: String, client name: String = "app") throws -> String {
        let request = CredentialRequest(clientName: name, accountName: "ops", kind: .appPassword(login: login))
        return try gateway.store.create(request).secret
    }

    /// Revokes through a store connection of its own, as the `credentials` command in another
    /// process would.
    func revoke(apiKey: String) throws {
        let id = apiKey.split(separator: "_")[1]
        let other = try CredentialStore(path: gateway.configuration.credentials.store)
        _ = try other.revoke(id: String(id))
    }

    /// Sends through the gateway with the API key in `X-API-Key`.
    func send(_ method: String, _ target: String, key: String, headers: [(String, String)] = [],
              body: [UInt8] = [], version: HTTPVersion = .http1_1) async -> TestResponse {
        await client.send(method, target, headers: [("X-API-Key", key)] + headers, body: body, version: version)
    }

    /// The access log lines captured so far, parsed.
    var accessLog: [[String: Any]] {
        logs.contents.compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  object["requestId"] != nil else { return nil }
            return object
        }
    }

    /// The access log once it holds at least `count` lines (the line is written just after the
    /// response went out, so a client can see the answer first), or what it holds after 2 s.
    func accessLog(atLeast count: Int) async -> [[String: Any]] {
        for _ in 0..<200 {
            let lines = accessLog
            if lines.count >= count { return lines }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return accessLog
    }

    func stop() async -> TokenPoolShutdownReport {
        client.shutdown()
        admin.shutdown()
        let report = await withCheckedContinuation { continuation in
            gateway.stop { report in continuation.resume(returning: report) }
        }
        try? FileManager.default.removeItem(atPath: directory)
        return report
    }
}

/// A loopback port nothing listens on: bound, then closed.
func unusedLoopbackPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(fd, pointer, length)
            return getsockname(fd, pointer, &length)
        }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
