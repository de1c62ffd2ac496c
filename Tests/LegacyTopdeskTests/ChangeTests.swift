import Testing

@testable import LegacyTopdesk

@Suite("Change templates and operator changes")
struct ChangeTests {
    let harness = Harness()

    func post(_ token: String, _ template: String, brief: String = "Workplace for a new colleague")
        -> SimulatorResponse
    {
        harness.sendJSON("POST", "/tas/api/operatorChanges", token: token, """
            {"requester": {"id": "32916B7D-3890-45E6-82CA-43E0F3165969"}, "briefDescription": "\(brief)",
             "template": \(template)}
            """)
    }

    func activities(_ token: String, _ response: SimulatorResponse) -> [JSONValue] {
        let id = response.json?["id"]?.stringValue ?? "missing"
        return harness.get("/tas/api/operatorChanges/\(id)", token: token).json?["activities"]?.arrayValue ?? []
    }

    @Test("applicable templates list number and description for operators only")
    func templates() {
        let response = harness.get("/tas/api/applicableChangeTemplates", token: harness.operatorToken())
        #expect(response.status == 200)
        let numbers = response.json?["results"]?.arrayValue?.compactMap { $0["number"]?.stringValue }
        #expect(numbers == ["CHT 0011", "CHT 0012", "CHT 0013"])
        #expect(harness.get("/tas/api/applicableChangeTemplates", token: harness.personToken()).status == 403)
    }

    @Test("a change from a template answers 201 with id, number, requester, description and type")
    func created() throws {
        let token = harness.operatorToken()
        let response = post(token, #"{"number": "CHT 0011", "optionalActivities": ["OA 0078", "OA 0084", "OA 0145"]}"#)
        #expect(response.status == 201)
        let json = try #require(response.json)
        #expect(json.objectMembers?.map(\.key) == ["id", "number", "requester", "briefDescription", "changeType"])
        #expect(json["number"] == "CH 1710 001")
        #expect(json["requester"]?["name"] == "Palmer, B.")
        #expect(json["briefDescription"] == "Workplace for a new colleague")
        #expect(json["changeType"] == "extensive")
        let made = activities(token, response)
        #expect(made.filter { $0["optional"] == .bool(true) }.count == 3)
        #expect(made.count == 4)
    }

    @Test("optional activities: absent means all, empty means none, a list names them by number or id")
    func optionalActivities() {
        let token = harness.operatorToken()
        let all = post(token, #"{"number": "CHT 0011"}"#)
        #expect(activities(token, all).filter { $0["optional"] == .bool(true) }.count == 4)
        let none = post(token, #"{"number": "CHT 0011", "optionalActivities": []}"#)
        #expect(activities(token, none).filter { $0["optional"] == .bool(true) }.count == 0)
        let byId = post(token,
                        #"{"number": "cht 0011", "optionalActivities": ["32916b7d-3890-45e6-82ca-43e0f3165969"]}"#)
        let chosen = activities(token, byId).filter { $0["optional"] == .bool(true) }
        #expect(chosen.map { $0["templateActivity"]?["number"] } == [.string("OA 0163")])
        #expect(post(token, #"{"number": "CHT 0011", "optionalActivities": ["OA 9999"]}"#).status == 400)
    }

    @Test("the template's description is used unless the request overrides it; an auto-approve template approves")
    func templateRules() {
        let token = harness.operatorToken()
        let response = harness.sendJSON("POST", "/tas/api/operatorChanges", token: token, """
            {"requester": {"id": "32916B7D-3890-45E6-82CA-43E0F3165969"}, "template": {"number": "CHT 0012"}}
            """)
        #expect(response.status == 201)
        #expect(response.json?["briefDescription"] == "Reset a shared mailbox password")
        #expect(response.json?["changeType"] == "simple")
        let id = response.json?["id"]?.stringValue ?? ""
        #expect(harness.get("/tas/api/operatorChanges/\(id)", token: token).json?["approved"] == .bool(true))
        let extensive = post(token, #"{"number": "CHT 0013"}"#)
        let extensiveId = extensive.json?["id"]?.stringValue ?? ""
        #expect(harness.get("/tas/api/operatorChanges/\(extensiveId)", token: token).json?["approved"] == .bool(false))
        #expect(post(token, #"{"number": "CHT 0012", "optionalActivities": ["OA 0078"]}"#).status == 400)
    }

    @Test("unknown requester or template is 404; a long description or no requester is 400")
    func changeValidation() {
        let token = harness.operatorToken()
        #expect(post(token, #"{"number": "CHT 9999"}"#).status == 404)
        #expect(post(token, #"{"number": "CHT 0011"}"#, brief: String(repeating: "z", count: 81)).status == 400)
        #expect(harness.sendJSON("POST", "/tas/api/operatorChanges", token: token,
                                 #"{"requester": {"id": "11111111-2222-3333-4444-555555555555"}}"#).status == 404)
        #expect(harness.sendJSON("POST", "/tas/api/operatorChanges", token: token, "{}").status == 400)
        #expect(harness.sendJSON("POST", "/tas/api/operatorChanges", token: harness.personToken(), "{}").status == 403)
    }

    @Test("PATCH with a JSON Patch changes the change; other content types are refused")
    func patch() {
        let token = harness.operatorToken()
        let created = post(token, #"{"number": "CHT 0011", "optionalActivities": []}"#)
        let number = (created.json?["number"]?.stringValue ?? "").replacingOccurrences(of: " ", with: "%20")
        let patch = #"[{"op": "replace", "path": "/briefDescription", "value": "Patched"}]"#
        let response = harness.sendJSON("PATCH", "/tas/api/operatorChanges/\(number)", token: token, patch,
                                        contentType: "application/json-patch+json")
        #expect(response.status == 200)
        #expect(response.json?["briefDescription"] == "Patched")
        #expect(harness.sendJSON("PATCH", "/tas/api/operatorChanges/\(number)", token: token, patch).status == 415)
        let bad = #"[{"op": "add", "path": "/colour", "value": "red"}]"#
        #expect(harness.sendJSON("PATCH", "/tas/api/operatorChanges/\(number)", token: token, bad,
                                 contentType: "application/json-patch+json").status == 400)
        let removal = #"[{"op": "remove", "path": "/briefDescription"}]"#
        #expect(harness.sendJSON("PATCH", "/tas/api/operatorChanges/\(number)", token: token, removal,
                                 contentType: "application/json-patch+json").status == 400)
    }
}
