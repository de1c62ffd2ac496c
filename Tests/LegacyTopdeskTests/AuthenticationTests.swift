import Testing

@testable import LegacyTopdesk

@Suite("Login, tokens and logout")
struct AuthenticationTests {
    @Test("an operator login answers the token as plain text, and the token opens the API")
    func operatorLogin() {
        let harness = Harness()
        let response = harness.login()
        #expect(response.status == 200)
        #expect(response.headers.first(name: "Content-Type") == "text/plain")
        let token = response.bodyText
        #expect(token.count == 36)
        #expect(harness.get("/tas/api/incidents", token: token).status == 206)
    }

    @Test("the Basic scheme word is case-insensitive and a Content-Type on the login GET is ignored")
    func basicSchemeCase() {
        let harness = Harness()
        let response = harness.send("GET", "/tas/api/login/operator", headers: [
            ("Authorization", Harness.basic("api.operator", "Operator-Pass-1", scheme: "BASIC")),
            ("Content-Type", "application/json"),
        ])
        #expect(response.status == 200)
    }

    @Test("a person logs in on the person endpoint only")
    func personLogin() {
        let harness = Harness()
        #expect(harness.login("person", "b.palmer", "Person-Pass-1").status == 200)
        #expect(harness.login("operator", "b.palmer", "Person-Pass-1").status == 401)
        #expect(harness.login("person", "api.operator", "Operator-Pass-1").status == 401)
    }

    @Test("a wrong password is a 401 with a JSON message and is counted as a failure")
    func wrongPassword() {
        let harness = Harness()
        let response = harness.login("operator", "api.operator", "wrong")
        #expect(response.status == 401)
        #expect(response.messages.count == 1)
        #expect(harness.simulator.statistics()["loginFailures"]?["api.operator"] == .int(1))
    }

    @Test("an account without the API permission is refused the REST realm with 403")
    func restRealm() {
        let harness = Harness()
        let response = harness.login("operator", "no.api", "NoApi-Pass-1")
        #expect(response.status == 403)
        #expect(response.messages == ["User does not have permission to access the REST realm"])
    }

    @Test("the REST realm refusal status is a setting")
    func restRealmStatusSetting() {
        var settings = SimulatorSettings()
        settings.noPermissionStatus = 401
        #expect(Harness(settings: settings).login("operator", "no.api", "NoApi-Pass-1").status == 401)
    }

    @Test("no Authorization header answers 'No authentication token provided'")
    func noToken() {
        let response = Harness().get("/tas/api/incidents", token: nil)
        #expect(response.status == 401)
        #expect(response.messages == ["No authentication token provided"])
    }

    @Test("an unknown token answers 'No valid authentication token provided'")
    func unknownToken() {
        let response = Harness().get("/tas/api/incidents", token: "0f83ee44-5ff7-462f-9cf5-855c455a4bca")
        #expect(response.status == 401)
        #expect(response.messages == ["No valid authentication token provided"])
    }

    @Test("the first id=\"...\" after TOKEN is read even with more after it")
    func tokenWithTrailer() {
        let harness = Harness()
        let token = harness.operatorToken()
        let response = harness.send("GET", "/tas/api/incidents", headers: [
            ("Authorization", "TOKEN id=\"\(token)\", APIKEY something")
        ])
        #expect(response.status == 206)
        #expect(LegacyInstall.tokenIdentifier("token id=\"\(token)\"") == nil)
        #expect(LegacyInstall.tokenIdentifier("TOKEN  id=\"abc\"") == "abc")
    }

    @Test("a token dies at the end of its lifetime")
    func tokenLifetime() {
        var settings = SimulatorSettings()
        settings.tokenLifetime = .seconds(2)
        let harness = Harness(settings: settings)
        let token = harness.operatorToken()
        harness.clock.advance(seconds: 1)
        #expect(harness.get("/tas/api/version", token: token).status == 200)
        #expect(harness.get("/tas/api/incidents/number/I%201602%20001", token: token).status == 200)
        harness.clock.advance(seconds: 1)
        let response = harness.get("/tas/api/incidents/number/I%201602%20001", token: token)
        #expect(response.status == 401)
        #expect(response.messages == ["No valid authentication token provided"])
    }

    @Test("the idle timeout kills an unused token while a used one lives on")
    func tokenIdle() {
        var settings = SimulatorSettings()
        settings.tokenIdleTimeout = .seconds(60)
        let harness = Harness(settings: settings)
        let used = harness.operatorToken()
        let unused = harness.operatorToken()
        harness.clock.advance(seconds: 40)
        #expect(harness.get("/tas/api/operators/current", token: used).status == 200)
        harness.clock.advance(seconds: 40)
        #expect(harness.get("/tas/api/operators/current", token: used).status == 200)
        #expect(harness.get("/tas/api/operators/current", token: unused).status == 401)
    }

    @Test("logout kills the token and is counted")
    func logout() {
        let harness = Harness()
        let token = harness.operatorToken()
        #expect(harness.get("/tas/api/logout", token: token).status == 200)
        #expect(harness.get("/tas/api/incidents", token: token).status == 401)
        #expect(harness.get("/tas/api/logout", token: token).status == 401)
        #expect(harness.simulator.statistics()["logouts"] == .int(1))
    }

    @Test("a restart kills every token")
    func restart() {
        let harness = Harness()
        let operatorToken = harness.operatorToken()
        let personToken = harness.personToken()
        #expect(harness.simulator.statistics()["activeTokens"] == .int(2))
        harness.simulator.restart()
        #expect(harness.get("/tas/api/incidents", token: operatorToken).status == 401)
        #expect(harness.get("/tas/api/incidents", token: personToken).status == 401)
        #expect(harness.simulator.statistics()["activeTokens"] == .int(0))
        #expect(harness.simulator.statistics()["restarts"] == .int(1))
    }

    @Test("401s come as the servlet container's HTML page when set")
    func html401() {
        var settings = SimulatorSettings()
        settings.html401 = true
        let response = Harness(settings: settings).get("/tas/api/incidents", token: nil)
        #expect(response.status == 401)
        #expect(response.headers.first(name: "Content-Type")?.hasPrefix("text/html") == true)
        #expect(response.bodyText.contains("HTTP Status 401"))
    }

    @Test("the legacy profile answers Basic credentials on a data endpoint with 401")
    func legacyRefusesBasic() {
        let harness = Harness()
        let basic = Harness.basic("api.operator", "ipsal-a7aid-6ybuq-ucjwg-axt4i")
        let response = harness.send("GET", "/tas/api/incidents", headers: [("Authorization", basic)])
        #expect(response.status == 401)
        #expect(harness.login("operator", "api.operator", "ipsal-a7aid-6ybuq-ucjwg-axt4i").status == 401)
    }

    @Test("the modern profile accepts login:application-password on every endpoint")
    func modernAcceptsApplicationPassword() {
        var settings = SimulatorSettings()
        settings.profile = .modern
        let harness = Harness(settings: settings)
        let basic = Harness.basic("api.operator", "ipsal-a7aid-6ybuq-ucjwg-axt4i")
        #expect(harness.send("GET", "/tas/api/incidents", headers: [("Authorization", basic)]).status == 206)
        #expect(harness.send("GET", "/tas/api/operators/current", headers: [("Authorization", basic)]).status == 200)
        let wrong = Harness.basic("api.operator", "Operator-Pass-1")
        #expect(harness.send("GET", "/tas/api/incidents", headers: [("Authorization", wrong)]).status == 401)
        #expect(harness.operatorToken().count == 36)
    }

    @Test("version is answered without a token and reports an old version")
    func version() {
        let response = Harness().get("/tas/api/version", token: nil)
        #expect(response.status == 200)
        #expect(response.json?["version"] == "3.1.4")
    }
}
