import Testing
@testable import Credentials

@Suite("Scopes")
struct ScopeTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let scopes: [String]
        let method: String
        let target: String
        let expected: ScopeDecision

        var testDescription: String {
            "\(scopes) \(method) \(target)"
        }
    }

    static let api = ["GET:/tas/api/"]
    static let incidents = ["GET:/tas/api/incidents"]

    static let cases: [Case] = [
        // No scopes: everything, whatever the path.
        Case(scopes: [], method: "DELETE", target: "/anything/../at/all", expected: .allowed),
        // Methods.
        Case(scopes: api, method: "GET", target: "/tas/api/incidents", expected: .allowed),
        Case(scopes: api, method: "POST", target: "/tas/api/incidents",
             expected: .denied(missingScope: "POST:/tas/api/incidents")),
        Case(scopes: ["get:/tas/api/"], method: "GET", target: "/tas/api/x", expected: .allowed),
        Case(scopes: api, method: "get", target: "/tas/api/x", expected: .denied(missingScope: "get:/tas/api/x")),
        Case(scopes: ["*:/tas/api/incidents"], method: "PATCH", target: "/tas/api/incidents/id/1", expected: .allowed),
        Case(scopes: ["GET:/tas/api/", "POST:/tas/api/incidents"], method: "POST", target: "/tas/api/operatorChanges",
             expected: .denied(missingScope: "POST:/tas/api/operatorChanges")),
        Case(scopes: ["GET:/tas/api/", "POST:/tas/api/incidents"], method: "POST", target: "/tas/api/incidents",
             expected: .allowed),
        // Prefixes respect segments.
        Case(scopes: ["GET:/tas/api/inc"], method: "GET", target: "/tas/api/incidents",
             expected: .denied(missingScope: "GET:/tas/api/incidents")),
        Case(scopes: incidents, method: "GET", target: "/tas/api/incidents", expected: .allowed),
        Case(scopes: incidents, method: "GET", target: "/tas/api/incidents/", expected: .allowed),
        Case(scopes: incidents, method: "GET", target: "/tas/api/incidentsArchive",
             expected: .denied(missingScope: "GET:/tas/api/incidentsArchive")),
        Case(scopes: api, method: "GET", target: "/tas/api", expected: .denied(missingScope: "GET:/tas/api")),
        Case(scopes: api, method: "GET", target: "/tas/apix/y", expected: .denied(missingScope: "GET:/tas/apix/y")),
        Case(scopes: ["*:/"], method: "GET", target: "/", expected: .allowed),
        Case(scopes: ["*:/"], method: "GET", target: "/tas/api/x", expected: .allowed),
        // Query strings are ignored.
        Case(scopes: incidents, method: "GET", target: "/tas/api/incidents?fields=id&x=/../../", expected: .allowed),
        Case(scopes: incidents, method: "GET", target: "/tas/api/operators?p=/tas/api/incidents",
             expected: .denied(missingScope: "GET:/tas/api/operators")),
        // Dot segments, plain or encoded, are never matched.
        Case(scopes: incidents, method: "GET", target: "/tas/api/incidents/../operators",
             expected: .unmatchablePath),
        Case(scopes: incidents, method: "GET", target: "/tas/api/incidents/./x", expected: .unmatchablePath),
        Case(scopes: incidents, method: "GET", target: "/tas/api/incidents/%2e%2e/operators",
             expected: .unmatchablePath),
        Case(scopes: incidents, method: "GET", target: "/tas/api/incidents/%2E%2e/operators",
             expected: .unmatchablePath),
        Case(scopes: incidents, method: "GET", target: "/tas/api/incidents/.%2e/operators",
             expected: .unmatchablePath),
        Case(scopes: incidents, method: "GET", target: "/tas/api/incidents/..;x=1/operators",
             expected: .unmatchablePath),
        Case(scopes: incidents, method: "GET", target: "/tas/api/incidents/%252e%252e/operators",
             expected: .unmatchablePath),
        Case(scopes: incidents, method: "GET", target: "/tas/api/incidents%2f..%2foperators",
             expected: .unmatchablePath),
        Case(scopes: incidents, method: "GET", target: "/tas/api/incidents/..\\operators",
             expected: .unmatchablePath),
        Case(scopes: incidents, method: "GET", target: "/tas/api/incidents/%zz", expected: .unmatchablePath),
        Case(scopes: incidents, method: "GET", target: "/tas/api/incidents/%2", expected: .unmatchablePath),
        Case(scopes: incidents, method: "GET", target: "http://evil/tas/api/incidents",
             expected: .unmatchablePath),
        Case(scopes: incidents, method: "GET", target: "/tas/api/incidents#x", expected: .unmatchablePath),
        // Names with dots are fine; escapes of ordinary characters decode.
        Case(scopes: incidents, method: "GET", target: "/tas/api/incidents/report.v2.pdf", expected: .allowed),
        Case(scopes: incidents, method: "GET", target: "/tas/api/%69ncidents/x", expected: .allowed),
        Case(scopes: incidents, method: "GET", target: "/tas/api/incidents/number/I%202301%20123",
             expected: .allowed),
        // Path parameters and doubled slashes are read as the upstream reads them.
        Case(scopes: incidents, method: "GET", target: "/tas/api/incidents;jsessionid=1", expected: .allowed),
        Case(scopes: incidents, method: "GET", target: "/tas//api///incidents", expected: .allowed),
        Case(scopes: incidents, method: "GET", target: "/tas/api;x/operators",
             expected: .denied(missingScope: "GET:/tas/api/operators")),
    ]

    @Test("Scope decisions", arguments: cases)
    func decisions(_ testCase: Case) throws {
        let scopes = try testCase.scopes.map { try Scope(parsing: $0) }
        #expect(Scope.authorize(scopes, method: testCase.method, target: testCase.target) == testCase.expected)
    }

    @Test("Scopes parse into method and normalized prefix")
    func parsing() throws {
        let scope = try Scope(parsing: "get:/tas//api/%69ncidents")
        #expect(scope.method == "GET")
        #expect(scope.pathPrefix == "/tas/api/incidents")
        #expect(scope.description == "GET:/tas/api/incidents")
        #expect(try Scope(parsing: "*:/").description == "*:/")
    }

    @Test("Malformed scopes are refused", arguments: [
        "", "GET", "GET/tas", ":/tas", "GET:", "GET:tas/api", "G ET:/tas", "GET:/tas/../x", "GET:/tas/%2e%2e",
        "GET:/tas?x=1", "GET:/tas#x", "GET:/a%2fb", "GE\u{7}T:/x",
    ])
    func malformed(text: String) {
        #expect(throws: ScopeError.self) {
            try Scope(parsing: text)
        }
    }

    @Test("A credential's authorize uses its scopes")
    func credentialAuthorize() throws {
        let credential = Credential(
            id: "abc", clientName: "c", accountName: "a", kind: .apiKey,
            scopes: [try Scope(parsing: "GET:/tas/api/")], createdAt: .init(), expiresAt: nil, revokedAt: nil,
            lastUsedAt: nil)
        #expect(credential.authorize(method: "GET", target: "/tas/api/x?y") == .allowed)
        #expect(credential.authorize(method: "PUT", target: "/tas/api/x?y") == .denied(missingScope: "PUT:/tas/api/x"))
    }

    @Test("Normalized paths", arguments: [
        ("/", "/"), ("/a/b", "/a/b"), ("/a/b/", "/a/b/"), ("//a//b//", "/a/b/"), ("/a;p/b;q=1", "/a/b"),
        ("/%41%42", "/AB"), ("/a?b/../c", "/a"), ("/caf%C3%A9", "/café"),
    ])
    func normalization(target: String, expected: String) {
        #expect(RequestPath.normalizedForMatching(target) == Array(expected.utf8))
    }
}
