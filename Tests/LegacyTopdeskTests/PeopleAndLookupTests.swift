import Testing

@testable import LegacyTopdesk

@Suite("Persons, operators, groups and lookup lists")
struct PeopleAndLookupTests {
    let harness = Harness()

    @Test("persons, operators and groups list for operators, paged")
    func lists() {
        let token = harness.operatorToken()
        #expect(harness.get("/tas/api/persons", token: token).jsonArray.count == 10)
        #expect(harness.get("/tas/api/persons?page_size=4", token: token).status == 206)
        #expect(harness.get("/tas/api/operators", token: token).jsonArray.count == 5)
        let groups = harness.get("/tas/api/operatorgroups", token: token).jsonArray
        #expect(groups.count == 3)
        #expect(groups.first?["id"] == .string(TopdeskDatabase.DemoIDs.operatorGroup))
        let palmer = harness.get("/tas/api/persons/id/32916b7d-3890-45e6-82ca-43e0f3165969", token: token)
        #expect(palmer.json?["dynamicName"] == "Palmer, B.")
    }

    @Test("current answers who the token belongs to, and the wrong kind is 403")
    func current() {
        let operatorToken = harness.operatorToken()
        let personToken = harness.personToken()
        #expect(harness.get("/tas/api/operators/current", token: operatorToken).json?["id"]
            == .string(TopdeskDatabase.DemoIDs.operator))
        #expect(harness.get("/tas/api/persons/current", token: personToken).json?["id"]
            == .string(TopdeskDatabase.DemoIDs.requester))
        #expect(harness.get("/tas/api/persons/current", token: operatorToken).status == 403)
        #expect(harness.get("/tas/api/operators/current", token: personToken).status == 403)
    }

    @Test("a person token sees only its own incidents and is refused operator-only calls")
    func personScope() {
        let token = harness.personToken()
        let list = harness.get("/tas/api/incidents?page_size=100", token: token)
        #expect(list.status == 200)
        #expect(!list.jsonArray.isEmpty)
        #expect(list.jsonArray.allSatisfy { $0["caller"]?["id"] == .string(TopdeskDatabase.DemoIDs.requester) })
        #expect(harness.get("/tas/api/incidents/number/I%201602%20001", token: token).status == 404)
        #expect(harness.get("/tas/api/persons", token: token).status == 403)
        #expect(harness.get("/tas/api/operators", token: token).status == 403)
        #expect(harness.get("/tas/api/operatorgroups", token: token).status == 403)
        let created = harness.sendJSON("POST", "/tas/api/incidents", token: token,
                                       #"{"briefDescription": "My screen is dark", "request": "Since this morning."}"#)
        #expect(created.status == 201)
        #expect(created.json?["caller"]?["id"] == .string(TopdeskDatabase.DemoIDs.requester))
        let forbidden = harness.sendJSON("POST", "/tas/api/incidents", token: token, #"{"status": "secondLine"}"#)
        #expect(forbidden.status == 403)
    }

    @Test("lookup lists answer arrays of id and name")
    func lookups() {
        let token = harness.operatorToken()
        for name in TopdeskDatabase.lookupListNames {
            let response = harness.get("/tas/api/incidents/\(name)", token: token)
            #expect(response.status == 200, "\(name)")
            #expect(!response.jsonArray.isEmpty, "\(name)")
            #expect(response.jsonArray.allSatisfy { $0["id"] != nil && $0["name"] != nil }, "\(name)")
        }
        let subcategories = harness.get("/tas/api/incidents/subcategories", token: token).jsonArray
        #expect(subcategories.first?["category"]?["name"] == "Hardware")
        #expect(harness.get("/tas/api/incidents/colours", token: token).status == 404)
    }

    @Test("wrong methods get 405 with Allow, unknown API paths 404")
    func methodsAndPaths() {
        let token = harness.operatorToken()
        let response = harness.send("DELETE", "/tas/api/incidents",
                                    headers: [("Authorization", Harness.tokenHeader(token))])
        #expect(response.status == 405)
        #expect(response.headers.first(name: "Allow") == "GET, POST")
        #expect(harness.get("/tas/api/nothing", token: token).status == 404)
    }
}
