import Testing

@testable import LegacyTopdesk

@Suite("Command line")
struct CommandLineTests {
    @Test("defaults match the documented ones")
    func defaults() throws {
        let parsed = try SimulatorCommandLine.parse([])
        #expect(parsed.api == HostAndPort(host: "127.0.0.1", port: 9080))
        #expect(parsed.control == HostAndPort(host: "127.0.0.1", port: 9081))
        #expect(parsed.settings == SimulatorSettings())
        #expect(parsed.settings.tokenLifetime == .seconds(8 * 3600))
    }

    @Test("every option is read")
    func options() throws {
        let parsed = try SimulatorCommandLine.parse([
            "--listen", "[::1]:0", "--control", "127.0.0.1:0", "--token-ttl", "2s", "--token-idle", "30m",
            "--profile", "modern", "--tls-cert", "c.pem", "--tls-key", "k.pem", "--data", "d.json",
            "--port-file", "p.txt", "--loops", "3", "--quiet", "--login-content-type", "application/json",
            "--no-permission-status", "401", "--max-page-size", "50", "--clamp-page-size", "--html-401",
            "--query-status", "200", "--api-version", "3.2.1",
        ])
        #expect(parsed.api == HostAndPort(host: "::1", port: 0))
        #expect(parsed.api.description == "[::1]:0")
        #expect(parsed.settings.tokenLifetime == .seconds(2))
        #expect(parsed.settings.tokenIdleTimeout == .seconds(1800))
        #expect(parsed.settings.profile == .modern)
        #expect(parsed.tlsCertificateFile == "c.pem" && parsed.tlsKeyFile == "k.pem")
        #expect(parsed.dataFile == "d.json" && parsed.portFile == "p.txt" && parsed.loopCount == 3)
        #expect(!parsed.settings.logRequests)
        #expect(parsed.settings.loginContentType == "application/json")
        #expect(parsed.settings.noPermissionStatus == 401)
        #expect(parsed.settings.maximumPageSize == 50 && !parsed.settings.rejectOversizedPage)
        #expect(parsed.settings.html401 && parsed.settings.queryParameterStatus == 200)
        #expect(parsed.settings.version == "3.2.1")
    }

    @Test("durations take ms, s, m and h and nothing else")
    func durations() throws {
        #expect(try SimulatorCommandLine.parseDuration("500ms", option: "x") == .milliseconds(500))
        #expect(try SimulatorCommandLine.parseDuration("2s", option: "x") == .seconds(2))
        #expect(try SimulatorCommandLine.parseDuration("30m", option: "x") == .seconds(1800))
        #expect(try SimulatorCommandLine.parseDuration("8h", option: "x") == .seconds(28_800))
        for bad in ["8", "h", "1.5s", "-2s", "2d", "ms"] {
            #expect(throws: CommandLineError.self) { try SimulatorCommandLine.parseDuration(bad, option: "x") }
        }
    }

    @Test("bad command lines are refused with a message naming the option")
    func refusals() {
        let cases: [[String]] = [
            ["--listen"], ["--listen", "9080"], ["--listen", "127.0.0.1:70000"], ["--profile", "new"],
            ["--tls-cert", "c.pem"], ["--control", "0.0.0.0:9081"], ["--listen", "127.0.0.1:9081"],
            ["--loops", "0"], ["--bogus"],
        ]
        for arguments in cases {
            #expect(throws: CommandLineError.self, "\(arguments)") { try SimulatorCommandLine.parse(arguments) }
        }
        #expect(throws: CommandLineError(message: "--profile: expected legacy or modern, got new")) {
            try SimulatorCommandLine.parse(["--profile", "new"])
        }
    }

    @Test("the listening line is parseable")
    func listeningLine() {
        let line = SimulatorCommandLine.listeningLine(api: HostAndPort(host: "127.0.0.1", port: 4000),
                                                      control: HostAndPort(host: "127.0.0.1", port: 4001))
        #expect(line == "listening api=127.0.0.1:4000 control=127.0.0.1:4001")
    }
}
