import Dispatch
import HTTP1
import LegacyTopdesk
import Network
import Synchronization
import Testing
@testable import TokenPool

/// The real login transport over `Network.HTTPClient`, against the real simulator served in this
/// process: the path the gateway takes to get its tokens.
@Suite("HTTP client login transport against the simulator", .serialized)
struct HTTPClientLoginTransportTests {
    private final class Results: Sendable {
        let values = Mutex<[String]>([])
        let arrived = DispatchSemaphore(value: 0)

        func record(_ value: String) {
            values.withLock { $0.append(value) }
            arrived.signal()
        }

        func wait(for count: Int) -> [String] {
            for _ in 0..<count { _ = arrived.wait(timeout: .now() + 5) }
            return values.withLock { $0 }
        }
    }

    @Test("logs in, is refused a wrong password, logs out, and reports an unreachable upstream")
    func loginLogout() throws {
        let simulatorGroup = EventLoopGroup(loopCount: 1)
        var settings = SimulatorSettings()
        settings.logRequests = false
        let simulator = LegacyTopdeskSimulator(settings: settings)
        let server = try LegacyTopdeskServer(simulator: simulator, api: HostAndPort(host: "127.0.0.1", port: 0),
                                             control: HostAndPort(host: "127.0.0.1", port: 0), tls: nil,
                                             group: simulatorGroup, log: nil)
        let port = try server.start().api.port
        let group = EventLoopGroup(loopCount: 1)
        let http = HTTPClient(configuration: HTTPClientConfiguration(host: "127.0.0.1", port: port), group: group)
        var unreachableConfiguration = HTTPClientConfiguration(host: "127.0.0.1", port: 1)
        unreachableConfiguration.connectTimeout = .seconds(1)
        let unreachable = HTTPClient(configuration: unreachableConfiguration, group: group)
        defer {
            http.shutdown()
            unreachable.shutdown()
            let stopped = DispatchSemaphore(value: 0)
            server.stop(grace: .milliseconds(100)) { stopped.signal() }
            _ = stopped.wait(timeout: .now() + 2)
            simulatorGroup.shutdown()
            group.shutdown()
        }
        let client = HTTPLegacyLoginClient(upstreams: [
            "td": .init(hostHeader: "127.0.0.1:\(port)", pathPrefix: "",
                        transport: HTTPClientLoginTransport(client: http, group: group)),
            "down": .init(hostHeader: "127.0.0.1:1", pathPrefix: "",
                          transport: HTTPClientLoginTransport(client: unreachable, group: group)),
        ])
        let account = AccountKey(upstream: "td", kind: .operator, login: TopdeskDatabase.DemoAccounts.operatorLogin)
        let tokens = Mutex<[String]>([])
        let results = Results()
        client.login(account: account, password: TopdeskDatabase.DemoAccounts.operatorPassword) { result in
            switch result {
            case .success(let token):
                tokens.withLock { $0.append(token) }
                results.record("token")
            case .failure(let failure):
                results.record("\(failure)")
            }
        }
        client.login(account: account, password: "Wrong-Password-1") { result in
            results.record(result.map { _ in "token" }.mapError { $0 }.failureDescription)
        }
        client.login(account: AccountKey(upstream: "down", kind: .operator, login: "x"), password: "y") { result in
            if case .failure(.network) = result { results.record("network") } else { results.record("\(result)") }
        }
        let answers = results.wait(for: 3)
        #expect(answers.filter { $0 == "token" }.count == 1)
        #expect(answers.contains("\(LoginFailure.badCredentials)"))
        #expect(answers.contains("network"))

        let token = try #require(tokens.withLock { $0.first })
        #expect(LegacyTokenFormat.problem(with: token) == nil)
        client.logout(token: LegacyToken(value: token, generation: 1, account: account)) { result in
            results.record(result.map { "logged out" }.failureDescription)
        }
        #expect(results.wait(for: 1).last == "logged out")
        let logouts = simulator.statistics().objectMembers?.first { $0.key == "logouts" }?.value.intValue
        #expect(logouts == 1)
    }
}

extension Result where Success == String, Failure == LoginFailure {
    fileprivate var failureDescription: String {
        switch self {
        case .success(let value): return value
        case .failure(let failure): return "\(failure)"
        }
    }
}
