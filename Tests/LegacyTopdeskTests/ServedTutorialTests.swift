import Foundation
import Testing

@testable import LegacyTopdesk

/// The old-style tutorial, request by request, against the simulator on a real socket.
@Suite("Served: the old tutorial walked step by step", .timeLimit(.minutes(1)))
struct ServedTutorialTests {
    @Test("every step of the tutorial answers as the tutorial says")
    func tutorial() throws {
        let served = try ServedSimulator()
        let client = try served.apiClient()

        // Get a token: operator, then person.
        let operatorLogin = try client.send("GET", "/tas/api/login/operator", headers: [
            ("Authorization", Harness.basic("api.operator", "Operator-Pass-1"))
        ])
        #expect(operatorLogin.status == 200)
        let token = operatorLogin.text
        #expect(token.count == 36)
        let personLogin = try client.send("GET", "/tas/api/login/person", headers: [
            ("Authorization", Harness.basic("b.palmer", "Person-Pass-1"))
        ])
        #expect(personLogin.status == 200)
        #expect(personLogin.text != token)

        // A user without the API permission group.
        let refused = try client.send("GET", "/tas/api/login/operator", headers: [
            ("Authorization", Harness.basic("no.api", "NoApi-Pass-1"))
        ])
        #expect(refused.status == 403)
        #expect(refused.messages == ["User does not have permission to access the REST realm"])

        // List incidents, then page through them.
        let list = try client.send("GET", "/tas/api/incidents", headers: tokenHeaders(token))
        #expect(list.status == 206)
        #expect(list.json?.arrayValue?.count == 10)
        let second = try client.send("GET", "/tas/api/incidents?start=10", headers: tokenHeaders(token))
        #expect(second.status == 206)
        #expect(second.json?.arrayValue?.count == 10)
        let last = try client.send("GET", "/tas/api/incidents?start=60", headers: tokenHeaders(token))
        #expect(last.status == 200)
        #expect(last.json?.arrayValue?.count == 4)
        let beyond = try client.send("GET", "/tas/api/incidents?start=70", headers: tokenHeaders(token))
        #expect(beyond.status == 204)
        #expect(beyond.body.isEmpty)

        // Filter.
        let filtered = try client.send("GET", "/tas/api/incidents?status=secondLine&completed=true",
                                       headers: tokenHeaders(token))
        #expect(filtered.status == 200 || filtered.status == 206)
        let matches = filtered.json?.arrayValue ?? []
        #expect(!matches.isEmpty)
        #expect(matches.allSatisfy { $0["status"] == "secondLine" && $0["completed"] == .bool(true) })

        // One incident by number, then change it.
        let incident = try client.send("GET", "/tas/api/incidents/number/I%201602%20001", headers: tokenHeaders(token))
        #expect(incident.status == 200)
        #expect(incident.json?["number"] == "I 1602 001")
        let put = try client.send("PUT", "/tas/api/incidents/number/I%201602%20001",
                                  headers: tokenHeaders(token) + [("Content-Type", "application/json")],
                                  body: Array(#"{"briefDescription": "Error 42"}"#.utf8))
        #expect(put.status == 200)
        #expect(put.json?["briefDescription"] == "Error 42")

        // Create an incident.
        let created = try client.send("POST", "/tas/api/incidents",
                                      headers: tokenHeaders(token) + [("Content-Type", "application/json")],
                                      body: Array(IncidentTests.tutorialIncident.utf8))
        #expect(created.status == 201)
        #expect(created.json?["number"]?.stringValue?.hasPrefix("I ") == true)
        #expect(created.json?["operatorGroup"]?["id"] == .string(TopdeskDatabase.DemoIDs.operatorGroup))

        // Create a change from a template with three optional activities.
        let change = try client.send("POST", "/tas/api/operatorChanges",
                                     headers: tokenHeaders(token) + [("Content-Type", "application/json")],
                                     body: Array(ServedTutorialTests.changeRequest.utf8))
        #expect(change.status == 201)
        let number = change.json?["number"]?.stringValue ?? ""
        #expect(number.hasPrefix("CH "))
        #expect(change.json?["requester"] == .object(["id": .string(TopdeskDatabase.DemoIDs.requester),
                                                       "name": "Palmer, B."]))
        #expect(change.json?["changeType"] == "extensive")
        let id = change.json?["id"]?.stringValue ?? ""
        let detail = try client.send("GET", "/tas/api/operatorChanges/\(id)", headers: tokenHeaders(token))
        let optional = detail.json?["activities"]?.arrayValue?.filter { $0["optional"] == .bool(true) } ?? []
        #expect(optional.count == 3)

        // Forget the token header.
        let anonymous = try client.send("GET", "/tas/api/incidents")
        #expect(anonymous.status == 401)
        #expect(anonymous.messages == ["No authentication token provided"])

        // What the simulator received, exactly.
        let lastRequest = try served.control("GET", "/requests/last")
        #expect(lastRequest.json?["target"] == "/tas/api/incidents")
        let statistics = try served.control("GET", "/stats").json
        #expect(statistics?["logins"] == .object(["api.operator": 1, "b.palmer": 1]))
        #expect(statistics?["loginFailures"] == .object(["no.api": 1]))
    }

    static let changeRequest = #"""
        {"requester": {"id": "32916B7D-3890-45E6-82CA-43E0F3165969"},
         "briefDescription": "New workplace for a colleague",
         "template": {"number": "CHT 0011",
                      "optionalActivities": ["OA 0078", "OA 0145", "32916B7D-3890-45E6-82CA-43E0F3165969"]}}
        """#
}
