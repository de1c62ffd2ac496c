import HTTP1
import Testing

@testable import LegacyTopdesk

@Suite("Control listener and faults")
struct ControlTests {
    @Test("stats count logins, failures, logouts, active tokens, requests and restarts")
    func stats() throws {
        let harness = Harness()
        let token = harness.operatorToken()
        _ = harness.operatorToken()
        _ = harness.login("operator", "api.operator", "nope")
        _ = harness.login("operator", "no.api", "NoApi-Pass-1")
        _ = harness.get("/tas/api/logout", token: token)
        let response = harness.simulator.handleControl(SimulatorRequest(method: "GET", target: "/stats"))
        #expect(response.status == 200)
        let json = try #require(response.json)
        #expect(json["logins"] == .object(["api.operator": 2]))
        #expect(json["loginFailures"] == .object(["api.operator": 1, "no.api": 1]))
        #expect(json["logouts"] == 1)
        #expect(json["activeTokens"] == 1)
        #expect(json["requests"] == 5)
        #expect(json["restarts"] == 0)
        #expect(json.objectMembers?.map(\.key) == ["logins", "loginFailures", "logouts", "activeTokens", "requests",
                                                   "restarts"])
    }

    @Test("POST /restart drops every token")
    func restart() {
        let harness = Harness()
        let token = harness.operatorToken()
        #expect(harness.simulator.handleControl(SimulatorRequest(method: "POST", target: "/restart")).status == 200)
        #expect(harness.get("/tas/api/incidents", token: token).status == 401)
        #expect(harness.simulator.handleControl(SimulatorRequest(method: "GET", target: "/restart")).status == 405)
    }

    @Test("requests/last shows the last API request exactly as received")
    func lastRequest() throws {
        let harness = Harness()
        _ = harness.send("GET", "/tas/api/incidents?start=10", headers: [("X-Forwarded-For", "10.0.0.1"),
                                                                        ("authorization", "TOKEN id=\"t\"")])
        let response = harness.simulator.handleControl(SimulatorRequest(method: "GET", target: "/requests/last"))
        let json = try #require(response.json)
        #expect(json["method"] == "GET")
        #expect(json["target"] == "/tas/api/incidents?start=10")
        #expect(json["headers"] == .array([
            .object(["name": "X-Forwarded-For", "value": "10.0.0.1"]),
            .object(["name": "authorization", "value": "TOKEN id=\"t\""]),
        ]))
    }

    func setFaults(_ harness: Harness, _ json: String) -> SimulatorResponse {
        harness.simulator.handleControl(SimulatorRequest(method: "POST", target: "/faults", body: Array(json.utf8)))
    }

    @Test("faults parse, apply, and {} resets them")
    func faults() {
        let harness = Harness(random: { 0.25 })
        let request = SimulatorRequest(method: "GET", target: "/tas/api/version")
        #expect(setFaults(harness, #"{"latencyMs": 150, "dropRate": 0.5}"#).status == 200)
        var outcome = harness.simulator.handleAPI(request)
        #expect(outcome.delay == .milliseconds(150))
        #expect(outcome.dropMidResponse)
        #expect(setFaults(harness, #"{"status500Rate": 1.0}"#).status == 200)
        outcome = harness.simulator.handleAPI(request)
        #expect(outcome.response.status == 500)
        #expect(outcome.delay == .zero)
        #expect(setFaults(harness, #"{"html401": true}"#).status == 200)
        let html = harness.simulator.handle(SimulatorRequest(method: "GET", target: "/tas/api/incidents"))
        #expect(html.headers.first(name: "Content-Type")?.hasPrefix("text/html") == true)
        #expect(setFaults(harness, "{}").status == 200)
        outcome = harness.simulator.handleAPI(request)
        #expect(outcome == SimulatorOutcome(response: outcome.response))
        #expect(outcome.response.status == 200)
    }

    @Test("invalid faults are refused and leave the current ones")
    func invalidFaults() {
        let harness = Harness()
        #expect(setFaults(harness, #"{"status500Rate": 2}"#).status == 400)
        #expect(setFaults(harness, #"{"latencyMs": "slow"}"#).status == 400)
        #expect(setFaults(harness, #"{"colour": 1}"#).status == 400)
        #expect(setFaults(harness, "[").status == 400)
        let current = harness.simulator.handleControl(SimulatorRequest(method: "GET", target: "/faults"))
        #expect(current.json?["latencyMs"] == 0)
    }
}
