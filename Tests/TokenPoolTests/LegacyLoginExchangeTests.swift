import HTTP1
import Testing
@testable import TokenPool

@Suite("Legacy login exchange")
struct LegacyLoginExchangeTests {
    static let cases: [(String, Int, String, Result<String, LoginFailure>)] = [
        ("UUID token", 200, "0f83ee44-5ff7-462f-9cf5-855c455a4bca", .success("0f83ee44-5ff7-462f-9cf5-855c455a4bca")),
        ("token with trailing newline", 200, "abc123\r\n", .success("abc123")),
        ("HTML page", 200, "<!DOCTYPE html>\n<html><body>TOPdesk</body></html>",
         .failure(.implausibleToken(reason: "the body looks like an HTML or XML page"))),
        ("empty body", 200, "", .failure(.implausibleToken(reason: "the body is empty"))),
        ("text with spaces", 200, "Service unavailable",
         .failure(.implausibleToken(reason: "the body contains spaces, control or non-ASCII characters"))),
        ("quote", 200, "ab\"cd", .failure(.implausibleToken(reason: "the body contains a quote or backslash"))),
        ("too long", 200, String(repeating: "a", count: 513),
         .failure(.implausibleToken(reason: "the body is longer than 512 bytes"))),
        ("bad credentials", 401, "[{\"message\": \"Bad credentials\"}]", .failure(.badCredentials)),
        ("REST realm", 403, "User does not have permission to access the REST realm", .failure(.missingAPIPermission)),
        ("server error", 500, "", .failure(.upstreamStatus(500))),
        ("redirect to web login", 302, "", .failure(.upstreamStatus(302))),
        ("wrong base path", 404, "<html>Not found</html>", .failure(.upstreamStatus(404))),
    ]

    @Test("Login answers are classified", arguments: cases)
    func classifies(_ name: String, _ status: Int, _ body: String, _ expected: Result<String, LoginFailure>) {
        let result = LegacyLoginExchange.classifyLogin(status: status, body: Array(body.utf8))
        switch (result, expected) {
        case (.success(let a), .success(let b)): #expect(a == b, "\(name)")
        case (.failure(let a), .failure(let b)): #expect(a == b, "\(name)")
        default: Issue.record("\(name): got \(result), expected \(expected)")
        }
    }

    @Test("A body that is not UTF-8 is not a token")
    func invalidUTF8() {
        let result = LegacyLoginExchange.classifyLogin(status: 200, body: [0x61, 0xFF, 0x62])
        #expect(throws: LoginFailure.implausibleToken(reason: "the body is not UTF-8 text")) { try result.get() }
    }

    @Test("Login and logout requests carry the documented headers under the path prefix")
    func requestHeads() {
        let login = LegacyLoginExchange.loginRequest(kind: .person, login: "alice", password: "pa:ss",
                                                     hostHeader: "td.example:8443", pathPrefix: "/topdesk")
        #expect(login.method == "GET")
        #expect(login.target == "/topdesk/tas/api/login/person")
        #expect(login.headers.first(name: "authorization") == "Basic YWxpY2U6cGE6c3M=")
        #expect(login.headers.first(name: "host") == "td.example:8443")

        let token = LegacyToken(value: "t-1", generation: 1, account: operatorKey)
        let logout = LegacyLoginExchange.logoutRequest(token: token, hostHeader: "td", pathPrefix: "")
        #expect(logout.target == "/tas/api/logout")
        #expect(logout.headers.first(name: "Authorization") == "TOKEN id=\"t-1\"")
        #expect((try? LegacyLoginExchange.classifyLogout(status: 200).get()) != nil)
        #expect((try? LegacyLoginExchange.classifyLogout(status: 500).get()) == nil)
    }
}
