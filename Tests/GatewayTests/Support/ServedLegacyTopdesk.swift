import Foundation
import HTTP1
import LegacyTopdesk
import Network

/// The real simulator, served in this process on 127.0.0.1 (ports chosen by the system), with its
/// control listener reached over HTTP like any test or benchmark would.
final class ServedLegacyTopdesk: Sendable {
    let simulator: LegacyTopdeskSimulator
    let group: EventLoopGroup
    let server: LegacyTopdeskServer
    let apiPort: Int
    let controlPort: Int
    let control: TestHTTPClient

    /// `apiPort` 0 lets the system choose.
    init(settings: SimulatorSettings = SimulatorSettings(), apiPort requestedPort: Int = 0) throws {
        var quiet = settings
        quiet.logRequests = false
        simulator = LegacyTopdeskSimulator(settings: quiet)
        group = EventLoopGroup(loopCount: 1)
        server = try LegacyTopdeskServer(simulator: simulator, api: HostAndPort(host: "127.0.0.1", port: requestedPort),
                                         control: HostAndPort(host: "127.0.0.1", port: 0), tls: nil, group: group,
                                         log: nil)
        let bound = try server.start()
        apiPort = bound.api.port
        controlPort = bound.control.port
        control = try TestHTTPClient(port: controlPort, caFile: nil)
    }

    /// `GET /stats` as JSON.
    func stats() async -> [String: Any] {
        await control.send("GET", "/stats").json ?? [:]
    }

    /// Successful logins of `login` so far.
    func logins(_ login: String = GatewayHarness.operatorLogin) async -> Int {
        (await stats()["logins"] as? [String: Any])?[login] as? Int ?? 0
    }

    func loginFailures(_ login: String = GatewayHarness.operatorLogin) async -> Int {
        (await stats()["loginFailures"] as? [String: Any])?[login] as? Int ?? 0
    }

    /// `GET /requests/last`: method, target, headers (name/value pairs) and bodyBytes.
    func lastRequest() async -> (target: String, headers: HTTPHeaders, bodyBytes: Int)? {
        guard let json = await control.send("GET", "/requests/last").json else { return nil }
        var headers = HTTPHeaders()
        for field in json["headers"] as? [[String: Any]] ?? [] {
            headers.add(name: field["name"] as? String ?? "", value: field["value"] as? String ?? "")
        }
        return (json["target"] as? String ?? "", headers, json["bodyBytes"] as? Int ?? -1)
    }

    @discardableResult
    func setFaults(_ json: String) async -> Int {
        await control.send("POST", "/faults", headers: [("Content-Type", "application/json")],
                           body: Array(json.utf8)).status
    }

    @discardableResult
    func restart() async -> Int {
        await control.send("POST", "/restart").status
    }

    func stop() async {
        control.shutdown()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            server.stop(grace: .milliseconds(200)) { continuation.resume() }
        }
        group.shutdown()
    }
}
