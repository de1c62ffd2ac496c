import Foundation
import Testing
@testable import Gateway

@Suite("tokenbridge check-config")
struct CheckConfigCommandTests {
    private static let goodConfiguration = """
        {
          listen: { address: "127.0.0.1", port: 8443 },
          upstreams: [{ name: "td", url: "http://127.0.0.1:8080" }],
          accounts: [{ name: "ops", upstream: "td", kind: "operator", login: "api.operator",
                       password: { env: "HOME" } }],
        }
        """

    private func write(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "tokenbridge-check-\(UUID().uuidString).json5"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func run(_ arguments: [String]) -> (status: Int32, output: [String], errors: [String]) {
        var output: [String] = []
        var errors: [String] = []
        let status = GatewayCommandLine.run(arguments, output: { output.append($0) },
                                            errorOutput: { errors.append($0) })
        return (status, output, errors)
    }

    @Test("a good file exits 0")
    func goodFile() throws {
        let path = try write("// comments are allowed\n" + Self.goodConfiguration)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = run(["check-config", "--config", path])
        #expect(result.status == 0)
        #expect(result.output.joined().contains("valid"))
        #expect(!result.errors.contains { $0.hasPrefix("error:") })
    }

    @Test("a broken file exits 1 and names each key at fault")
    func brokenFile() throws {
        let path = try write("""
            {
              listen: { port: "eighty" },
              upstreams: [{ name: "td", url: "ftp://example" }],
              accounts: [{ name: "ops", upstream: "nowhere", kind: "operator", login: "x",
                           password: { env: "TOKENBRIDGE_TEST_UNSET_VARIABLE" } }],
              tokens: { lifetime: "soon" },
            }
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = run(["check-config", "--config", path])
        #expect(result.status == 1)
        let errors = result.errors.filter { $0.hasPrefix("error:") }.joined(separator: "\n")
        for key in ["listen.port", "upstreams[0].url", "accounts[0].upstream", "accounts[0].password",
                    "tokens.lifetime"] {
            #expect(errors.contains(key), "no error names \(key)")
        }
    }

    @Test("a certificate and key that are readable but do not load exit 1 naming listen.tls, as serve would fail")
    func unloadableTLSMaterial() throws {
        let certificates = TestCertificates.shared
        let notPEM = try write("not a key")
        defer { try? FileManager.default.removeItem(atPath: notPEM) }
        // The CA's certificate with the server's key: both readable PEM, but not a pair.
        for (certificate, key) in [(certificates.caFile, certificates.serverKey), (certificates.serverChain, notPEM)] {
            let path = try write("""
                {
                  listen: { address: "127.0.0.1", tls: { certificate: "\(certificate)", privateKey: "\(key)" } },
                  upstreams: [{ name: "td", url: "https://127.0.0.1:8080", caFile: "\(notPEM)" }],
                  accounts: [{ name: "ops", upstream: "td", kind: "operator", login: "api.operator",
                               password: { env: "HOME" } }],
                }
                """)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let result = run(["check-config", "--config", path])
            #expect(result.status == 1)
            #expect(result.errors.contains { $0.hasPrefix("error: listen.tls: cannot load") })
            #expect(result.errors.contains { $0.hasPrefix("error: upstreams[0].caFile: cannot load") })
            #expect(!result.output.joined().contains("valid"))
        }
        let good = try write("""
            {
              listen: { address: "127.0.0.1",
                        tls: { certificate: "\(certificates.serverChain)", privateKey: "\(certificates.serverKey)" } },
              upstreams: [{ name: "td", url: "https://127.0.0.1:8080", caFile: "\(certificates.caFile)" }],
              accounts: [{ name: "ops", upstream: "td", kind: "operator", login: "api.operator",
                           password: { env: "HOME" } }],
            }
            """)
        defer { try? FileManager.default.removeItem(atPath: good) }
        #expect(run(["check-config", "--config", good]).status == 0)
    }

    @Test("usage errors exit 2 and --help exits 0 on every subcommand")
    func usage() {
        #expect(run(["check-config"]).status == 2)
        #expect(run(["serve", "--bogus"]).status == 2)
        #expect(run(["nonsense"]).status == 2)
        for command in ["check-config", "serve", "demo"] {
            let result = run([command, "--help"])
            #expect(result.status == 0, "\(command) --help")
            #expect(result.output.joined().contains("Usage: tokenbridge \(command)"))
        }
        let top = run(["--help"])
        #expect(top.status == 0)
        #expect(["serve", "check-config", "credentials", "demo"].allSatisfy { top.output.joined().contains($0) })
    }

    @Test("serve --log-level takes only the documented levels and says which they are")
    func logLevelOption() throws {
        let path = try write(Self.goodConfiguration)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = run(["serve", "--config", path, "--log-level", "loud"])
        #expect(result.status == 2)
        let message = result.errors.joined(separator: "\n")
        #expect(message.contains("--log-level: 'loud'"))
        #expect(["trace", "debug", "info", "notice", "warning", "error", "critical"].allSatisfy(message.contains))
    }
}
