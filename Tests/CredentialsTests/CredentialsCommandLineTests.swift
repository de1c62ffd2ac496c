import Foundation
import Testing
@testable import Credentials

@Suite("credentials command")
struct CredentialsCommandLineTests {
    let directory: TemporaryDirectory
    let now = Date(timeIntervalSince1970: 1_800_000_000)  // 2027-01-15T08:00:00Z

    init() throws {
        directory = try TemporaryDirectory()
    }

    struct Result {
        let status: Int32
        let output: String
        let errors: String
    }

    func run(_ arguments: [String], knownAccounts: Set<String>? = nil) -> Result {
        var output: [String] = []
        var errors: [String] = []
        let status = CredentialsCommandLine.run(
            arguments, storePath: directory.path("store.sqlite"), knownAccountNames: knownAccounts, now: now,
            output: { output.append($0) }, errorOutput: { errors.append($0) })
        return Result(status: status, output: output.joined(separator: "\n"), errors: errors.joined(separator: "\n"))
    }

    @Test("create --json prints exactly an id and a secret, and the secret verifies")
    func createJSON() throws {
        let result = run(["create", "--client", "reporting", "--account", "operator-api", "--api-key", "--json"])
        #expect(result.status == 0)
        #expect(result.errors.isEmpty)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: String])
        #expect(Set(object.keys) == ["id", "secret"])
        let id = try #require(object["id"])
        let secret = try #require(object["secret"])
        #expect(result.output == "{\"id\": \"\(id)\", \"secret\": \"\(secret)\"}")

        let store = try CredentialStore(path: directory.path("store.sqlite"))
        let verifier = CredentialVerifier(store: store)
        guard case .valid(let credential) = verifier.verify(apiKey: secret) else {
            Issue.record("the printed key does not verify")
            return
        }
        #expect(credential.id == id)
        #expect(credential.accountName == "operator-api")
    }

    @Test("create prints the secret once with a warning; list never shows it")
    func createTextAndList() throws {
        let created = run(["create", "--client=mobile app", "--account", "operator-api", "--app-password", "alice",
                           "--scope", "GET:/tas/api/", "--scope=POST:/tas/api/incidents", "--expires", "2027-06-01"])
        #expect(created.status == 0)
        #expect(created.output.contains("shown only once"))
        #expect(created.output.contains("login:    alice"))
        #expect(created.output.contains("2027-06-01T00:00:00Z"))
        let password = try #require(created.output.split(separator: "\n")
            .first { $0.contains("password: ") }?.split(separator: " ").last.map(String.init))
        #expect(AppPasswordFormat.isWellFormed(password))

        let table = run(["list"])
        #expect(table.status == 0)
        #expect(table.output.contains("alice"))
        #expect(table.output.contains("GET:/tas/api/ POST:/tas/api/incidents"))
        #expect(!table.output.contains(password))

        let json = run(["list", "--json"])
        #expect(!json.output.contains(password))
        let array = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [[String: Any]])
        #expect(array.count == 1)
        #expect(array.first?["login"] as? String == "alice")
        #expect(array.first?["client"] as? String == "mobile app")
        #expect(array.first?["scopes"] as? [String] == ["GET:/tas/api/", "POST:/tas/api/incidents"])
        #expect(array.first?["expires"] as? String == "2027-06-01T00:00:00Z")
        #expect(array.first?["revoked"] is NSNull)
        #expect(array.first?["status"] as? String == "active")
    }

    @Test("revoke marks the credential revoked and is idempotent; an unknown id fails")
    func revoke() throws {
        let created = run(["create", "--client", "c", "--account", "a", "--api-key", "--json"])
        let parsed = try JSONSerialization.jsonObject(with: Data(created.output.utf8))
        let object = try #require(parsed as? [String: String])
        let id = try #require(object["id"])

        let revoked = run(["revoke", id])
        #expect(revoked.status == 0)
        #expect(revoked.output.contains("Revoked credential \(id)"))
        #expect(run(["list"]).output.contains("revoked"))
        let again = run(["revoke", id])
        #expect(again.status == 0)
        #expect(again.output.contains("already revoked"))

        let unknown = run(["revoke", "nosuchid0000"])
        #expect(unknown.status == 1)
        #expect(unknown.errors.contains("nosuchid0000"))
    }

    @Test("Usage errors name the flag and exit with status 2", arguments: [
        (["create", "--account", "a", "--api-key"], "--client"),
        (["create", "--client", "c", "--api-key"], "--account"),
        (["create", "--client", "c", "--account", "a"], "--api-key"),
        (["create", "--client", "c", "--account", "a", "--api-key", "--app-password", "x"], "--app-password"),
        (["create", "--client", "c", "--account", "a", "--api-key", "--scope", "GET/tas"], "--scope"),
        (["create", "--client", "c", "--account", "a", "--api-key", "--expires", "2027-02-30"], "--expires"),
        (["create", "--client", "c", "--account", "a", "--api-key", "--expires", "2020-01-01"], "--expires"),
        (["create", "--client", "c", "--account", "a", "--api-key", "--expires", "2027-03-01T10:00:00"], "--expires"),
        (["create", "--client", "c", "--account", "a", "--api-key", "--colour", "red"], "--colour"),
        (["create", "--client", "--account", "a", "--api-key"], "--client"),
        (["create", "--client", "c", "--client", "d", "--account", "a", "--api-key"], "--client"),
        (["create", "--client", "c", "--account", "a", "--app-password", "a:b"], "--app-password"),
        (["create", "--client", " c", "--account", "a", "--api-key"], "--client"),
        (["create", "--client", "c", "--account", "a", "--api-key", "--json=yes"], "--json"),
        (["list", "extra"], "extra"),
        (["list", "--all"], "--all"),
        (["revoke"], "ID"),
        (["revoke", "a", "b"], "'b'"),
        (["rotate"], "rotate"),
    ])
    func usageErrors(arguments: [String], named: String) {
        let result = run(arguments)
        #expect(result.status == 2)
        #expect(result.errors.contains(named))
        #expect(result.output.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: directory.path("store.sqlite")) || arguments[0] != "create")
    }

    @Test("An account outside the configuration is refused when accounts are known")
    func knownAccounts() {
        let refused = run(["create", "--client", "c", "--account", "nobody", "--api-key"], knownAccounts: ["ops"])
        #expect(refused.status == 2)
        #expect(refused.errors.contains("--account 'nobody'"))
        let accepted = run(["create", "--client", "c", "--account", "ops", "--api-key"], knownAccounts: ["ops"])
        #expect(accepted.status == 0)
    }

    @Test("A login in use is refused with the holder's id")
    func loginInUse() throws {
        #expect(run(["create", "--client", "c", "--account", "a", "--app-password", "alice"]).status == 0)
        let second = run(["create", "--client", "c", "--account", "a", "--app-password", "alice"])
        #expect(second.status == 1)
        #expect(second.errors.contains("alice"))
    }

    @Test("Every subcommand has --help", arguments: [
        ([], 2), (["--help"], 0), (["create", "--help"], 0), (["list", "-h"], 0), (["revoke", "--help"], 0),
    ] as [([String], Int32)])
    func help(arguments: [String], status: Int32) {
        let result = run(arguments)
        #expect(result.status == status)
        #expect((result.output + result.errors).contains("Usage: tokenbridge credentials"))
    }

    @Test("--expires accepts a date and ISO 8601 date-times", arguments: [
        ("2027-06-01", 1_811_808_000.0),
        ("2027-06-01T12:30:00Z", 1_811_853_000.0),
        ("2027-06-01T14:30:00+02:00", 1_811_853_000.0),
        ("2027-06-01T12:30:00.250Z", 1_811_853_000.25),
    ])
    func expiryParsing(text: String, seconds: Double) throws {
        let date = try #require(CredentialsCommandLine.parseExpiry(text))
        #expect(abs(date.timeIntervalSince1970 - seconds) < 0.001)
    }

    @Test("--expires refuses what is not a date", arguments: ["", "tomorrow", "2027-13-01", "2027-6-1", "27-06-01",
                                                               "2027-06-01T12:30", "2027-06-01 12:30:00Z"])
    func expiryRefused(text: String) {
        #expect(CredentialsCommandLine.parseExpiry(text) == nil)
    }
}
