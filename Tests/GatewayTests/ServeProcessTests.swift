import Credentials
import Foundation
import Testing
@testable import Gateway

/// `tokenbridge serve` as a real process, in front of `legacy-topdesk` as another, driven by
/// signals as systemd or docker would drive it.
@Suite("tokenbridge serve as a process", .serialized, .timeLimit(.minutes(2)))
struct ServeProcessTests {
    /// A configuration file, a password file and a credential store in a fresh directory.
    struct Setup {
        let directory: String
        let configPath: String
        let passwordPath: String
        let apiKey: String

        init(upstreamPort: Int, password: String, grace: String = "10s") throws {
            directory = NSTemporaryDirectory() + "tokenbridge-serve-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            configPath = directory + "/tokenbridge.json5"
            passwordPath = directory + "/operator-password"
            try password.write(toFile: passwordPath, atomically: true, encoding: .utf8)
            let certificates = TestCertificates.shared
            try """
                // Written by ServeProcessTests.
                {
                  listen: { address: "127.0.0.1", port: 0,
                            tls: { certificate: "\(certificates.serverChain)",
                                   privateKey: "\(certificates.serverKey)" } },
                  admin: { listen: "127.0.0.1:0" },
                  upstreams: [{ name: "td", url: "http://127.0.0.1:\(upstreamPort)", responseTimeout: "20s" }],
                  accounts: [{ name: "ops", upstream: "td", kind: "operator", login: "\(GatewayHarness.operatorLogin)",
                               password: { file: "operator-password" } }],
                  credentials: { store: "credentials.sqlite" },
                  shutdown: { grace: "\(grace)" },
                }
                """.write(toFile: configPath, atomically: true, encoding: .utf8)
            let store = try CredentialStore(path: directory + "/credentials.sqlite")
            apiKey = try store.create(CredentialRequest(clientName: "process-test", accountName: "ops",
                                                        kind: .apiKey)).secret
        }

        func remove() {
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// The running gateway and clients for its two listeners (ports read from its start line).
    struct Served {
        let program: ChildProgram
        let client: TestHTTPClient
        let admin: TestHTTPClient

        init(_ setup: Setup) async throws {
            program = try ChildProgram("tokenbridge", ["serve", "--config", setup.configPath],
                                       captureStandardError: true)
            guard let line = await program.waitForLine(containing: "\"gateway started\""),
                  let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let listen = (object["listen"] as? String)?.split(separator: ":").last.flatMap({ Int($0) }),
                  let admin = (object["admin"] as? String)?.split(separator: ":").last.flatMap({ Int($0) }) else {
                throw ChildProgramError("tokenbridge did not start: \(program.output.joined(separator: "\n"))")
            }
            client = try TestHTTPClient(port: listen, caFile: TestCertificates.shared.caFile)
            self.admin = try TestHTTPClient(port: admin, caFile: nil)
        }

        func shutdownClients() {
            client.shutdown()
            admin.shutdown()
        }
    }

    @Test("SIGTERM during slow upstream answers lets them finish, logs the token out and exits 0")
    func sigtermDrains() async throws {
        let simulator = try await SimulatorProcess()
        let setup = try Setup(upstreamPort: simulator.apiPort, password: GatewayHarness.operatorPassword)
        defer { setup.remove() }
        let served = try await Served(setup)
        let key = [("X-API-Key", setup.apiKey)]
        #expect(await served.client.send("GET", "/tas/api/version", headers: key).status == 200, "warm: logged in")
        let logoutsBefore = await simulator.stats()["logouts"] as? Int ?? -1

        #expect(await simulator.setFaults("{\"latencyMs\": 1500}") == 200)
        async let first = served.client.send("GET", "/tas/api/incidents?page_size=1", headers: key)
        async let second = served.client.send("GET", "/tas/api/operatorgroups", headers: key)
        async let third = served.client.send("GET", "/tas/api/version", headers: key)
        try await Task.sleep(for: .milliseconds(500))
        served.program.send(SIGTERM)
        try await Task.sleep(for: .milliseconds(200))
        let draining = await served.admin.send("GET", "/readyz")
        let answers = await [first, second, third]

        #expect(draining.status == 503, "not ready while draining")
        #expect((draining.json?["reason"] as? String) == "the gateway is shutting down")
        #expect(answers.map(\.status) == [206, 200, 200], "\(answers.map { $0.failure ?? String($0.status) })")
        #expect(await served.program.waitForExit(timeout: .seconds(20)) == 0)
        #expect(await simulator.stats()["logouts"] as? Int == logoutsBefore + 1)
        let output = served.program.output
        #expect(output.contains { $0.contains("\"signal received, stopping\"") && $0.contains("SIGTERM") })
        #expect(output.contains { $0.contains("\"tokens logged out\"") && $0.contains("\"loggedOut\":\"1\"") })
        served.shutdownClients()
        await simulator.stop()
    }

    @Test("SIGINT with a short grace cuts off an answer slower than the grace, still logs out and exits 0")
    func sigintGraceRunsOut() async throws {
        let simulator = try await SimulatorProcess()
        let setup = try Setup(upstreamPort: simulator.apiPort, password: GatewayHarness.operatorPassword,
                              grace: "300ms")
        defer { setup.remove() }
        let served = try await Served(setup)
        let key = [("X-API-Key", setup.apiKey)]
        #expect(await served.client.send("GET", "/tas/api/version", headers: key).status == 200, "warm: logged in")
        let logoutsBefore = await simulator.stats()["logouts"] as? Int ?? -1

        #expect(await simulator.setFaults("{\"latencyMs\": 4000}") == 200)
        async let slow = served.client.send("GET", "/tas/api/operatorgroups", headers: key)
        try await Task.sleep(for: .milliseconds(400))
        let signalled = ContinuousClock.now
        served.program.send(SIGINT)
        // The logout that follows the grace must not wait on the fault meant for the slow answer.
        #expect(await simulator.setFaults("{}") == 200)
        let answer = await slow
        let exit = await served.program.waitForExit(timeout: .seconds(20))
        let stoppedAfter = ContinuousClock.now - signalled

        #expect(answer.status != 200, "an answer slower than the grace is cut off, not awaited")
        #expect(exit == 0)
        #expect(stoppedAfter < .seconds(3), "stopped after \(stoppedAfter), not after the 4 s answer")
        #expect(await simulator.stats()["logouts"] as? Int == logoutsBefore + 1)
        #expect(served.program.output.contains {
            $0.contains("\"signal received, stopping\"") && $0.contains("SIGINT")
        })
        served.shutdownClients()
        await simulator.stop()
    }

    @Test("a wrong account password makes /readyz 503; fixing the file and sending SIGHUP makes it 200")
    func readinessFollowsReload() async throws {
        let simulator = try await SimulatorProcess()
        let setup = try Setup(upstreamPort: simulator.apiPort, password: "not-the-password")
        defer { setup.remove() }
        let served = try await Served(setup)
        let key = [("X-API-Key", setup.apiKey)]
        #expect(await served.admin.send("GET", "/readyz").status == 200, "nothing tried yet")
        #expect(await served.client.send("GET", "/tas/api/version", headers: key).status == 502)
        let notReady = await served.admin.send("GET", "/readyz")
        #expect(notReady.status == 503)
        #expect((notReady.json?["reason"] as? String)?.contains("account 'ops' is unhealthy") == true)

        try GatewayHarness.operatorPassword.write(toFile: setup.passwordPath, atomically: true, encoding: .utf8)
        served.program.send(SIGHUP)
        #expect(await served.program.waitForLine(containing: "\"configuration reloaded\"") != nil)
        #expect(await served.admin.send("GET", "/readyz").status == 200)
        #expect(await served.client.send("GET", "/tas/api/version", headers: key).status == 200)

        // A broken file is refused; the process keeps serving with what it has.
        try "{ upstreams: [".write(toFile: setup.configPath, atomically: true, encoding: .utf8)
        served.program.send(SIGHUP)
        #expect(await served.program.waitForLine(containing: "configuration reload refused") != nil)
        #expect(await served.client.send("GET", "/tas/api/version", headers: key).status == 200)

        served.program.send(SIGTERM)
        #expect(await served.program.waitForExit(timeout: .seconds(20)) == 0)
        served.shutdownClients()
        await simulator.stop()
    }
}
