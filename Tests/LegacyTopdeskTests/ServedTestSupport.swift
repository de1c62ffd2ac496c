import Foundation
import HTTP1
import Network
import Synchronization

@testable import LegacyTopdesk

/// A simulator served in this process on 127.0.0.1, ports chosen by the system.
final class ServedSimulator {
    let simulator: LegacyTopdeskSimulator
    let group: EventLoopGroup
    let server: LegacyTopdeskServer
    let apiPort: Int
    let controlPort: Int

    init(settings: SimulatorSettings = SimulatorSettings(), loops: Int = 1) throws {
        var quiet = settings
        quiet.logRequests = false
        simulator = LegacyTopdeskSimulator(settings: quiet)
        group = EventLoopGroup(loopCount: loops)
        server = try LegacyTopdeskServer(simulator: simulator, api: HostAndPort(host: "127.0.0.1", port: 0),
                                         control: HostAndPort(host: "127.0.0.1", port: 0), tls: nil, group: group,
                                         log: nil)
        let bound = try server.start()
        apiPort = bound.api.port
        controlPort = bound.control.port
    }

    deinit {
        let done = DispatchSemaphore(value: 0)
        server.stop(grace: .milliseconds(200)) { done.signal() }
        _ = done.wait(timeout: .now() + 2)
        group.shutdown()
    }

    func apiClient() throws -> RawHTTPClient { try RawHTTPClient(port: apiPort) }

    /// One control request on its own connection.
    func control(_ method: String, _ target: String, body: String = "") throws -> RawHTTPClient.Response {
        try RawHTTPClient(port: controlPort).send(method, target, body: Array(body.utf8))
    }

    func login(_ kind: String = "operator", _ login: String = "api.operator", _ password: String = "Operator-Pass-1")
        throws -> String
    {
        let response = try apiClient().send("GET", "/tas/api/login/\(kind)",
                                            headers: [("Authorization", Harness.basic(login, password))])
        guard response.status == 200 else { throw RawHTTPClient.Failure(description: "login: \(response.status)") }
        return response.text
    }
}

func tokenHeaders(_ token: String) -> [(String, String)] {
    [("Authorization", "TOKEN id=\"\(token)\"")]
}
