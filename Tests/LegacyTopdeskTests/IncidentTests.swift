import Testing

@testable import LegacyTopdesk

@Suite("Incidents: list, by id and number, PUT and POST")
struct IncidentTests {
    let harness = Harness()

    var token: String { harness.operatorToken() }

    @Test("the list pages with 206 while more follow, 200 on the last page, 204 past the end")
    func paging() {
        let token = self.token
        let first = harness.get("/tas/api/incidents", token: token)
        #expect(first.status == 206)
        #expect(first.jsonArray.count == 10)
        let middle = harness.get("/tas/api/incidents?start=10", token: token)
        #expect(middle.status == 206)
        #expect(middle.jsonArray.first?["number"] != first.jsonArray.first?["number"])
        let last = harness.get("/tas/api/incidents?start=60&page_size=10", token: token)
        #expect(last.status == 200)
        #expect(last.jsonArray.count == 4)
        let exact = harness.get("/tas/api/incidents?start=54&page_size=10", token: token)
        #expect(exact.status == 200)
        let beyond = harness.get("/tas/api/incidents?start=64", token: token)
        #expect(beyond.status == 204)
        #expect(beyond.body.isEmpty)
        #expect(harness.get("/tas/api/incidents?page_size=100", token: token).status == 200)
    }

    @Test("the list is newest first by default and order_by sorts by the named date")
    func ordering() {
        let token = self.token
        let newest = harness.get("/tas/api/incidents?page_size=100", token: token).jsonArray
        let dates = newest.compactMap { $0["creationDate"]?.stringValue }
        #expect(dates == dates.sorted(by: >))
        #expect(newest.last?["number"] == "I 1602 001")
        for order in ["creation_date+ASC", "creation_date%2BASC"] {
            let target = "/tas/api/incidents?order_by=\(order)"
            let oldest = harness.get(target, token: token).jsonArray
            #expect(oldest.first?["number"] == "I 1602 001")
        }
        #expect(harness.get("/tas/api/incidents?order_by=colour+ASC", token: token).status == 400)
    }

    @Test("page_size above 100 and a FIQL query are refused with 400")
    func refusedParameters() {
        let token = self.token
        #expect(harness.get("/tas/api/incidents?page_size=101", token: token).status == 400)
        #expect(harness.get("/tas/api/incidents?page_size=0", token: token).status == 400)
        #expect(harness.get("/tas/api/incidents?start=-1", token: token).status == 400)
        #expect(harness.get("/tas/api/incidents?query=status==firstLine", token: token).status == 400)
    }

    @Test("a start near the largest integer answers 204 instead of overflowing the page's end")
    func hugeStart() {
        let token = self.token
        let largest = Int.max
        for target in ["/tas/api/incidents?start=\(largest)&page_size=100", "/tas/api/incidents?start=\(largest - 5)",
                       "/tas/api/incidents/number/I%201602%20001/actions?start=\(largest)&page_size=100",
                       "/tas/api/operators?start=\(largest)"] {
            let response = harness.get(target, token: token)
            #expect(response.status == 204, "\(target)")
            #expect(response.body.isEmpty, "\(target)")
        }
    }

    @Test("an oversized page can be clamped instead of refused")
    func clampedPageSize() {
        var settings = SimulatorSettings()
        settings.rejectOversizedPage = false
        settings.maximumPageSize = 20
        let harness = Harness(settings: settings)
        let response = harness.get("/tas/api/incidents?page_size=500", token: harness.operatorToken())
        #expect(response.status == 206)
        #expect(response.jsonArray.count == 20)
    }

    @Test("inline filters combine: status=secondLine&completed=true")
    func statusAndCompleted() {
        let response = harness.get("/tas/api/incidents?status=secondLine&completed=true&page_size=100", token: token)
        #expect(response.status == 200)
        #expect(!response.jsonArray.isEmpty)
        for incident in response.jsonArray {
            #expect(incident["status"] == "secondLine")
            #expect(incident["completed"] == .bool(true))
        }
    }

    @Test("status is case-sensitive: FirstLine is refused")
    func statusCase() {
        let response = harness.get("/tas/api/incidents?status=FirstLine", token: token)
        #expect(response.status == 400)
        #expect(!response.messages.isEmpty)
    }

    @Test("caller, operator group, closed and date range filters select what they name")
    func moreFilters() {
        let token = self.token
        let caller = TopdeskDatabase.DemoIDs.requester.lowercased()
        let byCaller = harness.get("/tas/api/incidents?caller=\(caller)&page_size=100", token: token).jsonArray
        #expect(!byCaller.isEmpty)
        #expect(byCaller.allSatisfy { $0["caller"]?["id"] == .string(TopdeskDatabase.DemoIDs.requester) })
        let group = TopdeskDatabase.DemoIDs.operatorGroup
        let byGroup = harness.get("/tas/api/incidents?operator_group=\(group)&page_size=100", token: token).jsonArray
        #expect(byGroup.allSatisfy { $0["operatorGroup"]?["id"] == .string(group) })
        let closed = harness.get("/tas/api/incidents?closed=true&page_size=100", token: token).jsonArray
        #expect(!closed.isEmpty && closed.allSatisfy { $0["closed"] == .bool(true) })
        let range = harness.get(
            "/tas/api/incidents?creation_date_start=2016-02-01&creation_date_end=2016-02-29&page_size=100",
            token: token)
        #expect(range.jsonArray.compactMap { $0["number"]?.stringValue }.allSatisfy { $0.hasPrefix("I 1602") })
        #expect(range.jsonArray.count == 4)
        #expect(harness.get("/tas/api/incidents?creation_date_start=Feb", token: token).status == 400)
        let archived = harness.get("/tas/api/incidents?archived=true", token: token)
        #expect(archived.status == 200)
        #expect(archived.jsonArray.count == 2)
    }

    @Test("an incident is found by number with %20, in any case, and by id in any case")
    func byNumberAndId() {
        let token = self.token
        let byNumber = harness.get("/tas/api/incidents/number/I%201602%20001", token: token)
        #expect(byNumber.status == 200)
        #expect(byNumber.json?["number"] == "I 1602 001")
        #expect(harness.get("/tas/api/incidents/number/i%201602%20001", token: token).status == 200)
        #expect(harness.get("/tas/api/incidents/number/I 1602 001", token: token).status == 200)
        #expect(harness.get("/tas/api/incidents/number/I+1602+001", token: token).status == 404)
        let id = byNumber.json?["id"]?.stringValue ?? ""
        #expect(harness.get("/tas/api/incidents/id/\(id.uppercased())", token: token).json?["id"] == .string(id))
        #expect(harness.get("/tas/api/incidents/id/not-a-uuid", token: token).status == 400)
        #expect(harness.get("/tas/api/incidents/id/00000000-0000-4000-8000-999999999999", token: token).status == 404)
    }

    @Test("an incident links to its actions, requests and attachments instead of carrying them")
    func incidentShape() throws {
        let incident = try #require(harness.get("/tas/api/incidents/number/I%201602%20001", token: token).json)
        let id = try #require(incident["id"]?.stringValue)
        #expect(incident["action"] == .string("/tas/api/incidents/id/\(id)/actions"))
        #expect(incident["requests"] == .string("/tas/api/incidents/id/\(id)/requests"))
        #expect(incident["attachments"] == .string("/tas/api/incidents/id/\(id)/attachments"))
        #expect(incident["creationDate"] == "2016-02-01T09:12:00.000+0000")
        #expect(incident["caller"]?["id"] == .string(TopdeskDatabase.DemoIDs.caller))
    }

    @Test("PUT of a partial object changes that field and answers the changed incident")
    func putBriefDescription() {
        let token = self.token
        let response = harness.sendJSON("PUT", "/tas/api/incidents/number/I%201602%20001", token: token,
                                        #"{"briefDescription": "Error 42"}"#)
        #expect(response.status == 200)
        #expect(response.json?["briefDescription"] == "Error 42")
        #expect(response.json?["modificationDate"] == "2017-10-16T09:12:00.000+0000")
        let again = harness.get("/tas/api/incidents/number/I%201602%20001", token: token)
        #expect(again.json?["briefDescription"] == "Error 42")
        #expect(again.json?["request"] != nil)
    }

    @Test("PUT with an action adds an action entry and replaces nothing")
    func putAction() {
        let token = self.token
        let before = harness.get("/tas/api/incidents/number/I%201602%20001/actions", token: token)
        let count = before.status == 204 ? 0 : before.jsonArray.count
        let response = harness.sendJSON("PUT", "/tas/api/incidents/number/I%201602%20001", token: token,
                                        #"{"action": "Called the user back"}"#)
        #expect(response.status == 200)
        let after = harness.get("/tas/api/incidents/number/I%201602%20001/actions", token: token).jsonArray
        #expect(after.count == count + 1)
        #expect(after.first?["memoText"] == "Called the user back")
    }

    @Test("PUT validation: 80 characters for briefDescription, a case-sensitive status")
    func putValidation() {
        let token = self.token
        let long = String(repeating: "x", count: 81)
        #expect(harness.sendJSON("PUT", "/tas/api/incidents/number/I%201602%20001", token: token,
                                 "{\"briefDescription\": \"\(long)\"}").status == 400)
        #expect(harness.sendJSON("PUT", "/tas/api/incidents/number/I%201602%20001", token: token,
                                 #"{"status": "SecondLine"}"#).status == 400)
        #expect(harness.sendJSON("PUT", "/tas/api/incidents/number/I%201602%20001", token: token,
                                 "not json").status == 400)
    }

    static let tutorialIncident = #"""
        {"callerLookup": {"id": "e127ddc1-0df3-5ee4-9144-95f751bc13ee"},
         "briefDescription": "Printer on the second floor jams",
         "request": "The printer jams on every second page.",
         "status": "secondLine",
         "operator": {"id": "751E0A70-5B2B-572D-8CAE-99F52651B6D0"},
         "operatorGroup": {"id": "997F35AE-4490-5FDE-BA1C-72044499EA41"}}
        """#

    @Test("POST creates an incident, answers 201 with its new number, and a trailing slash works")
    func create() {
        let token = self.token
        let response = harness.sendJSON("POST", "/tas/api/incidents", token: token, IncidentTests.tutorialIncident)
        #expect(response.status == 201)
        #expect(response.json?["number"] == "I 1710 001")
        #expect(response.json?["status"] == "secondLine")
        #expect(response.json?["operator"]?["id"] == .string(TopdeskDatabase.DemoIDs.operator))
        #expect(response.json?["caller"]?["dynamicName"] == "Bakker, J.")
        let second = harness.sendJSON("POST", "/tas/api/incidents/", token: token, IncidentTests.tutorialIncident)
        #expect(second.status == 201)
        #expect(second.json?["number"] == "I 1710 002")
        let list = harness.get("/tas/api/incidents", token: token).jsonArray
        #expect(list.first?["number"] == "I 1710 002")
        #expect(harness.get("/tas/api/incidents/number/I%201710%20001/requests", token: token).jsonArray.count == 1)
    }

    @Test("POST validation: lengths, callerLookup keys, unknown ids, operator outside the group")
    func createValidation() {
        let token = self.token
        func post(_ json: String) -> Int { harness.sendJSON("POST", "/tas/api/incidents", token: token, json).status }
        let caller = #""callerLookup": {"id": "e127ddc1-0df3-5ee4-9144-95f751bc13ee"}"#
        #expect(post("{\(caller), \"briefDescription\": \"\(String(repeating: "y", count: 81))\"}") == 400)
        #expect(post("{\(caller), \"externalNumber\": \"\(String(repeating: "y", count: 61))\"}") == 400)
        #expect(post(#"{"callerLookup": {"id": "e127ddc1-0df3-5ee4-9144-95f751bc13ee", "email": "x"}}"#) == 400)
        #expect(post(#"{"callerLookup": {}}"#) == 400)
        #expect(post(#"{"callerLookup": {"id": "11111111-2222-3333-4444-555555555555"}}"#) == 404)
        #expect(post(#"{"callerLookup": {"email": "b.palmer@example.com"}}"#) == 201)
        #expect(post("{\(caller), \"status\": \"FirstLine\"}") == 400)
        #expect(post("{\(caller), \"operator\": {\"id\": \"11111111-2222-3333-4444-555555555555\"}}") == 404)
        #expect(post("{\(caller), \"category\": {\"name\": \"Hardware\"}}") == 201)
        #expect(post("{\(caller), \"category\": {\"id\": \"11111111-2222-3333-4444-555555555555\"}}") == 404)
        // Carl Dekker is only in the service desk group, not the network team.
        let database = TopdeskDatabase.demo
        let carl = database.operators[1].id, network = database.operatorGroups[2].id
        #expect(post("{\(caller), \"operator\": {\"id\": \"\(carl)\"}, \"operatorGroup\": {\"id\": \"\(network)\"}}")
            == 400)
        #expect(post(#"{"briefDescription": "no caller"}"#) == 400)
        #expect(post(#"{"caller": {"dynamicName": "Walk-in visitor"}}"#) == 201)
    }

    @Test("an incident whose request text is Latin-1 is sent as those bytes, not as UTF-8")
    func latin1Bytes() {
        let response = harness.get("/tas/api/incidents/number/I%201605%20001", token: token)
        #expect(response.status == 200)
        #expect(response.body.contains(0xFC))
        #expect(String(validating: response.body, as: UTF8.self) == nil)
    }
}
