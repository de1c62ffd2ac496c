import Foundation
import Testing
import TokenPool
@testable import Gateway

/// A scratch directory with a configuration file and the files it refers to; removed on deinit.
final class ConfigurationFixture {
    let directory: String

    init() throws {
        directory = NSTemporaryDirectory() + "tokenbridge-config-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // Real PEM files: check-config loads them as serve does.
        let certificates = TestCertificates.shared
        for (name, source) in [("cert.pem", certificates.serverChain), ("key.pem", certificates.serverKey),
                               ("ca.pem", certificates.caFile)] {
            try FileManager.default.copyItem(atPath: source, toPath: directory + "/" + name)
        }
        try write("password.txt", "file-secret\n")
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func write(_ name: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: directory + "/" + name))
    }

    func load(_ text: String, environment: [String: String] = ["TD_PASSWORD": "env-secret"])
        throws(ConfigurationErrors) -> GatewayConfiguration {
        try? write("config.json5", text)
        return try GatewayConfiguration.load(path: directory + "/config.json5", environment: environment)
    }

    func errors(_ text: String, environment: [String: String] = ["TD_PASSWORD": "env-secret"]) -> [String] {
        try? write("config.json5", text)
        return GatewayConfiguration.check(path: directory + "/config.json5", environment: environment).errors
    }
}

let minimalConfiguration = """
    // The smallest useful configuration.
    {
      listen: { tls: { certificate: "cert.pem", privateKey: "key.pem" } },
      upstreams: [ { name: "main", url: "https://td.example.com/topdesk/" } ],
      accounts: [
        { name: "api", upstream: "main", kind: "operator", login: "api", password: { env: "TD_PASSWORD" } },
      ],
    }
    """

@Suite("Configuration")
struct ConfigurationTests {
    @Test("A minimal JSON5 file loads with every documented default")
    func defaults() throws {
        let fixture = try ConfigurationFixture()
        let configuration = try fixture.load(minimalConfiguration)
        #expect(configuration.listen.address == "127.0.0.1")
        #expect(configuration.listen.port == 8443)
        #expect(configuration.listen.tls?.certificate == fixture.directory + "/cert.pem")
        #expect(configuration.admin.address == "127.0.0.1")
        #expect(configuration.admin.port == 9443)
        let upstream = try #require(configuration.upstreams.first)
        #expect(upstream.url == UpstreamURL(scheme: "https", host: "td.example.com", port: 443, pathPrefix: "/topdesk"))
        #expect(upstream.caFile == nil)
        #expect(upstream.connectTimeout == .seconds(5))
        #expect(upstream.responseTimeout == .seconds(60))
        #expect(upstream.maxConnections == 64)
        let account = try #require(configuration.accounts.first)
        #expect(account.key == AccountKey(upstream: "main", kind: .operator, login: "api"))
        #expect(account.password.value == "env-secret")
        #expect(configuration.tokens.lifetime == .seconds(8 * 3600))
        #expect(configuration.tokens.renewBefore == .seconds(300))
        #expect(configuration.tokens.poolSize == 1)
        #expect(configuration.credentials.store == fixture.directory + "/credentials.sqlite")
        #expect(configuration.limits.headBytes == 32 * 1024)
        #expect(configuration.limits.bodyBytes == 16 * 1024 * 1024)
        #expect(configuration.limits.replayBuffer == 1024 * 1024)
        #expect(configuration.log.level == .info)
        #expect(configuration.shutdown.grace == .seconds(30))
        #expect(configuration.warnings.isEmpty)
        #expect(configuration.tokenPolicy.poolSize == 1)
        #expect(configuration.tokenAccounts.map(\.password) == ["env-secret"])
    }

    @Test("Every key can be set, with units for durations and sizes")
    func everyKey() throws {
        let fixture = try ConfigurationFixture()
        let configuration = try fixture.load("""
            {
              listen: { address: "::1", port: 0 },
              admin: { listen: "[::1]:9444" },
              upstreams: [
                { name: "main", url: "https://[::1]:8444", caFile: "ca.pem", connectTimeout: "500ms",
                  responseTimeout: "2m", maxConnections: 8 },
              ],
              accounts: [
                { name: "a", upstream: "main", kind: "person", login: "alice", password: { file: "password.txt" } },
              ],
              tokens: { lifetime: "1h30m", renewBefore: "10m", poolSize: 3 },
              credentials: { store: "/tmp/store.sqlite" },
              limits: { headBytes: "64KiB", bodyBytes: 1048576, replayBuffer: "512 KiB" },
              log: { level: "debug" },
              shutdown: { grace: "5s" },
            }
            """)
        #expect(configuration.listen.address == "::1")
        #expect(configuration.listen.port == 0)
        #expect(configuration.listen.tls == nil)
        #expect(configuration.warnings.map(\.path) == ["listen.tls"])
        #expect(configuration.admin.address == "::1" && configuration.admin.port == 9444)
        let upstream = try #require(configuration.upstreams.first)
        #expect(upstream.url.authority == "[::1]:8444")
        #expect(upstream.caFile == fixture.directory + "/ca.pem")
        #expect(upstream.connectTimeout == .milliseconds(500))
        #expect(upstream.responseTimeout == .seconds(120))
        #expect(upstream.maxConnections == 8)
        #expect(configuration.accounts.first?.password == Secret(value: "file-secret",
                                                                   source: .file(fixture.directory + "/password.txt")))
        #expect(configuration.tokens.lifetime == .seconds(5400))
        #expect(configuration.tokens.renewBefore == .seconds(600))
        #expect(configuration.tokens.poolSize == 3)
        #expect(configuration.credentials.store == "/tmp/store.sqlite")
        #expect(configuration.limits.headBytes == 65536)
        #expect(configuration.limits.bodyBytes == 1_048_576)
        #expect(configuration.limits.replayBuffer == 524_288)
        #expect(configuration.log.level == .debug)
        #expect(configuration.shutdown.grace == .seconds(5))
    }

    @Test("check-config lists every error with its key path")
    func errorsNameTheirKeys() throws {
        let fixture = try ConfigurationFixture()
        let errors = fixture.errors("""
            {
              listen: { address: "localhost", port: 70000, tls: { certificate: "missing.pem", privateKey: "key.pem" } },
              admin: { listen: "9443" },
              upstreams: [
                { name: "main", url: "ftp://td.example.com" },
                { name: "main", url: "https://td.example.com", connectTimeout: 5, maxConnections: "many" },
                { name: "spare", url: "https://td.example.com:99999" },
              ],
              accounts: [
                { name: "a", upstream: "main", kind: "operator", login: "api", password: { env: "NOPE" } },
                { name: "b", upstream: "x", kind: "boss", login: "api", password: { file: "absent.txt" } },
                { name: "a", upstream: "main", kind: "person", login: "x:y", password: { env: "A", file: "B" } },
              ],
              tokens: { lifetime: "8", renewBefore: "9h" },
              limits: { bodyByts: "1MiB", headBytes: "lots" },
              log: { level: "loud" },
              extra: true,
            }
            """)
        let expected = [
            "extra: unknown key",
            "listen.address: \"localhost\" is not a numeric IPv4 or IPv6 address",
            "listen.port: must be from 0 to 65535",
            "listen.tls.certificate: cannot read file \(fixture.directory)/missing.pem",
            "admin.listen: \"9443\" is not \"address:port\" with a numeric address",
            "upstreams[0].url: not a valid URL: the scheme must be http:// or https://",
            "upstreams[1].name: duplicate name \"main\" (also upstreams[0])",
            "upstreams[1].connectTimeout: expected a duration with a unit such as \"30s\" or \"500ms\", found a number",
            "upstreams[1].maxConnections: expected a whole number, found a string",
            "upstreams[2].url: not a valid URL: the port must be a number from 1 to 65535",
            "accounts[0].password: environment variable NOPE is not set or empty",
            "accounts[1].upstream: no upstream named \"x\"",
            "accounts[1].kind: must be \"operator\" or \"person\", not \"boss\"",
            "accounts[1].password: cannot read file \(fixture.directory)/absent.txt",
            "accounts[2].name: duplicate name \"a\" (also accounts[0])",
            "accounts[2].login: must not contain \":\" or control characters (HTTP Basic cannot carry them)",
            "accounts[2].password: give exactly one of env or file",
            "tokens.lifetime: \"8\" is not a duration; write a number and a unit: ms, s, m, h (\"30s\", \"8h\")",
            "tokens.renewBefore: must be well below tokens.lifetime (at most 80% of it)",
            "limits.bodyByts: unknown key (did you mean \"bodyBytes\"?)",
            "limits.headBytes: \"lots\" is not a size; write bytes or a number with KiB, MiB, GiB (\"16MiB\")",
            "log.level: \"loud\" is not one of trace, debug, info, notice, warning, error, critical",
        ]
        for line in expected { #expect(errors.contains(line), "missing: \(line)\nin: \(errors)") }
        #expect(errors.count == expected.count, "\(errors)")
    }

    @Test("Unknown keys are errors at every depth")
    func unknownKeys() throws {
        let fixture = try ConfigurationFixture()
        let errors = fixture.errors(minimalConfiguration.replacingOccurrences(
            of: "kind: \"operator\"", with: "kind: \"operator\", passwrd: \"x\""))
        #expect(errors == ["accounts[0].passwrd: unknown key (did you mean \"password\"?)"])
    }

    @Test("Secrets never appear in errors, warnings or descriptions")
    func secretsStayHidden() throws {
        let fixture = try ConfigurationFixture()
        let text = minimalConfiguration.replacingOccurrences(of: "{ env: \"TD_PASSWORD\" }",
                                                             with: "\"literal-hunter2\"")
        let configuration = try fixture.load(text)
        #expect(configuration.warnings.map(\.description) == [
            "accounts[0].password: a literal secret in the configuration file; "
                + "prefer {env: \"NAME\"} or {file: \"PATH\"}",
        ])
        #expect(!String(describing: configuration).contains("literal-hunter2"))
        #expect(!String(reflecting: configuration).contains("literal-hunter2"))

        let check = GatewayConfiguration.check(path: fixture.directory + "/config.json5")
        #expect(check.errors.isEmpty)
        #expect(check.warnings.count == 1)
        #expect(!(check.errors + check.warnings).joined().contains("literal-hunter2"))

        // An error elsewhere in the same account does not echo the literal either.
        let failing = fixture.errors(text.replacingOccurrences(of: "kind: \"operator\"", with: "kind: 7"))
        #expect(failing == ["accounts[0].kind: expected a string, found a number"])

        let withEnv = try fixture.load(minimalConfiguration, environment: ["TD_PASSWORD": "env-hunter3"])
        #expect(!"\(withEnv.accounts)".contains("env-hunter3"))
    }

    @Test("Plain HTTP is refused on a public address and warned about on loopback")
    func tlsRequiredOffLoopback() throws {
        let fixture = try ConfigurationFixture()
        let text = minimalConfiguration.replacingOccurrences(
            of: "listen: { tls: { certificate: \"cert.pem\", privateKey: \"key.pem\" } },",
            with: "listen: { address: \"0.0.0.0\" },")
        #expect(fixture.errors(text) == ["listen.tls: required unless listen.address is a loopback address"])
    }

    @Test("A few-second token lifetime, as a test install hands out, loads with a warning")
    func shortTokenLifetime() throws {
        let fixture = try ConfigurationFixture()
        let short = minimalConfiguration.replacingOccurrences(
            of: "  accounts: [", with: "  tokens: { lifetime: \"3s\", renewBefore: \"1s\" },\n  accounts: [")
        let configuration = try fixture.load(short)
        #expect(configuration.tokens.lifetime == .seconds(3))
        #expect(configuration.tokens.renewBefore == .seconds(1))
        #expect(configuration.warnings.map(\.path) == ["tokens.lifetime"])
        #expect(configuration.tokenPolicy.expirySafetyMargin <= .milliseconds(300))

        let tooShort = minimalConfiguration.replacingOccurrences(
            of: "  accounts: [", with: "  tokens: { lifetime: \"500ms\", renewBefore: \"2s\" },\n  accounts: [")
        #expect(fixture.errors(tooShort) == ["tokens.lifetime: must be from 1s to 7d"])

        // A short lifetime alone is enough: renewal then starts a quarter of it ahead.
        let lifetimeOnly = minimalConfiguration.replacingOccurrences(
            of: "  accounts: [", with: "  tokens: { lifetime: \"3s\" },\n  accounts: [")
        #expect(try fixture.load(lifetimeOnly).tokens.renewBefore == .milliseconds(750))
        let hour = minimalConfiguration.replacingOccurrences(
            of: "  accounts: [", with: "  tokens: { lifetime: \"1h\" },\n  accounts: [")
        #expect(try fixture.load(hour).tokens.renewBefore == .seconds(300))
    }

    @Test("A file that is not JSON5 or has no upstreams is reported as such")
    func malformedFiles() throws {
        let fixture = try ConfigurationFixture()
        let syntax = fixture.errors("{ listen: { port: 1 ")
        #expect(syntax.count == 1 && syntax[0].hasPrefix("not valid JSON5"))
        #expect(fixture.errors("[]") == ["the configuration must be an object, found a list"])
        #expect(fixture.errors("{}") == ["upstreams: at least one upstream is required",
                                         "accounts: at least one account is required"])
        let missing = GatewayConfiguration.check(path: fixture.directory + "/nope.json5")
        #expect(missing.errors == ["cannot read \(fixture.directory)/nope.json5"])
    }

    @Test("load throws all errors at once, typed")
    func loadThrows() throws {
        let fixture = try ConfigurationFixture()
        #expect(throws: ConfigurationErrors.self) { try fixture.load("{ upstreams: [], accounts: [] }") }
        do {
            _ = try fixture.load("{ upstreams: [], accounts: [] }")
        } catch {
            #expect(error.errors.map(\.path) == ["upstreams", "accounts"])
        }
    }
}
