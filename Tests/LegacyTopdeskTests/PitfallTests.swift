import Testing

@testable import LegacyTopdesk

/// The pitfalls public clients ran into, each reproduced (LEGACY_API.md, last section).
@Suite("Pitfalls seen in public clients")
struct PitfallTests {
    let harness = Harness()

    @Test("a 206 arrives for a list request that did not send page_size")
    func partialWithoutPageSize() {
        let response = harness.get("/tas/api/incidents", token: harness.operatorToken())
        #expect(response.status == 206)
        #expect(response.jsonArray.count == 10)
    }

    @Test("a token cached forever stops working, and only a new login helps")
    func cachedTokenDies() {
        var settings = SimulatorSettings()
        settings.tokenLifetime = .seconds(8 * 3600)
        let harness = Harness(settings: settings)
        let cached = harness.operatorToken()
        harness.clock.advance(seconds: 8 * 3600)
        #expect(harness.get("/tas/api/incidents", token: cached).status == 401)
        #expect(harness.get("/tas/api/incidents", token: harness.operatorToken()).status == 206)
    }

    @Test("calling logout with Basic credentials on an old install is a 401 and ends nothing")
    func logoutWithBasic() {
        let basic = Harness.basic("api.operator", "Operator-Pass-1")
        let response = harness.send("GET", "/tas/api/logout", headers: [("Authorization", basic)])
        #expect(response.status == 401)
        #expect(harness.simulator.statistics()["logouts"] == .int(0))
    }

    @Test("calling logout with Basic credentials on a modern install answers 200 and the credentials still work")
    func logoutWithBasicModern() {
        var settings = SimulatorSettings()
        settings.profile = .modern
        let harness = Harness(settings: settings)
        let basic = Harness.basic("api.operator", "ipsal-a7aid-6ybuq-ucjwg-axt4i")
        #expect(harness.send("GET", "/tas/api/logout", headers: [("Authorization", basic)]).status == 200)
        #expect(harness.send("GET", "/tas/api/incidents", headers: [("Authorization", basic)]).status == 206)
        #expect(harness.simulator.statistics()["logouts"] == .int(0))
    }

    @Test("status values with the wrong case are rejected")
    func wrongCaseStatus() {
        #expect(harness.get("/tas/api/incidents?status=FirstLine", token: harness.operatorToken()).status == 400)
    }

    @Test("a multipart upload with the wrong part name arrives empty")
    func emptyMultipart() {
        let response = IncidentChildrenTests.upload(harness, token: harness.operatorToken(), partName: "attachment")
        #expect(response.status == 400)
        #expect(response.messages.first?.contains("file") == true)
    }

    @Test("a response can carry bytes that are not valid UTF-8")
    func nonUTF8() {
        let response = harness.get("/tas/api/incidents/number/I%201605%20001", token: harness.operatorToken())
        #expect(String(validating: response.body, as: UTF8.self) == nil)
    }

    @Test("a wrong base path answers 200 with an HTML page instead of a token")
    func wrongBasePath() {
        for path in ["/tas/login/operator", "/api/login/operator", "/tas/api-login/operator"] {
            let response = harness.send("GET", path, headers: [
                ("Authorization", Harness.basic("api.operator", "Operator-Pass-1"))
            ])
            #expect(response.status == 200, "\(path)")
            #expect(response.headers.first(name: "Content-Type")?.hasPrefix("text/html") == true)
            #expect(response.bodyText.contains("<html"))
        }
    }

    @Test("a path of the web application redirects to the login page instead of answering 401")
    func redirectToLogin() {
        let response = harness.send("GET", "/tas/secure/incident?action=show&unid=1")
        #expect(response.status == 302)
        #expect(response.headers.first(name: "Location") == "/tas/public/login/form")
    }
}
