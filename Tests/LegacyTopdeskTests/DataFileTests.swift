import Foundation
import Testing

@testable import LegacyTopdesk

@Suite("Demo database and data files")
struct DataFileTests {
    @Test("the demo database has the tutorial's ids and the promised sizes")
    func demoContent() {
        let demo = TopdeskDatabase.demo
        #expect(demo.incidents.count >= 60)
        #expect(Set(demo.incidents.map(\.status)) == Set(IncidentStatus.allCases))
        #expect(demo.incidents.contains { $0.completed } && demo.incidents.contains { $0.closed })
        #expect(Set(demo.incidents.compactMap(\.callerId)).count >= 5)
        #expect(demo.persons.count == 10 && demo.operators.count == 5 && demo.operatorGroups.count == 3)
        #expect(demo.incidents.first?.number == "I 1602 001")
        let handler = demo.operators.first { $0.id == TopdeskDatabase.DemoIDs.operator }
        #expect(handler?.operatorGroupIds.contains(TopdeskDatabase.DemoIDs.operatorGroup) == true)
        #expect(demo.persons.first { $0.id == TopdeskDatabase.DemoIDs.requester }?.dynamicName == "Palmer, B.")
        let template = demo.changeTemplates.first { $0.number == "CHT 0011" }
        let optional = template?.activities.filter(\.optional)
        #expect(optional?.map(\.number).prefix(3) == ["OA 0078", "OA 0084", "OA 0145"])
        #expect(optional?.contains { $0.id == TopdeskDatabase.DemoIDs.extraOptionalActivity } == true)
        #expect(demo.changeTemplates.contains { $0.autoApprove })
        #expect(Set(demo.incidents.map(\.number)).count == demo.incidents.count)
    }

    @Test("the demo database is the same on every build")
    func deterministic() {
        let first = String(data: (try? TopdeskDatabase.demo.encodedForFile()) ?? Data(), encoding: .utf8)
        var builder = TopdeskDatabase.demo
        builder.rebuildForTest()
        #expect(first == String(data: (try? builder.encodedForFile()) ?? Data(), encoding: .utf8))
    }

    @Test("a data file in the documented shape loads and is served")
    func loadFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("legacy-topdesk-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("data.json").path
        try Data(DataFileTests.smallFile.utf8).write(to: URL(fileURLWithPath: path))
        let database = try TopdeskDatabase.load(contentsOf: path)
        #expect(database.incidents.count == 1)
        let harness = Harness(database: database)
        let token = harness.login("operator", "ops", "secret").bodyText
        let response = harness.get("/tas/api/incidents/number/200410-004", token: token)
        #expect(response.status == 200)
        #expect(response.json?["briefDescription"] == "Other numbering")
        #expect(response.json?["caller"]?["dynamicName"] == "Doe, J.")
        #expect(response.json?["creationDate"] == "2004-10-12T08:00:00.000+0000")
    }

    @Test("the demo database written as a file loads back equal")
    func dumpAndLoad() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("demo-\(UUID()).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try TopdeskDatabase.demo.encodedForFile().write(to: URL(fileURLWithPath: path))
        #expect(try TopdeskDatabase.load(contentsOf: path) == TopdeskDatabase.demo)
    }

    static let smallFile = """
        {
          "branches": [],
          "persons": [{"id": "aaaaaaaa-0000-4000-8000-000000000001", "firstName": "John", "surName": "Doe",
                       "dynamicName": "Doe, J.", "email": "j.doe@example.com", "phoneNumber": "", "mobileNumber": "",
                       "employeeNumber": "1", "networkLoginName": "jdoe"}],
          "operators": [{"id": "bbbbbbbb-0000-4000-8000-000000000001", "firstName": "Op", "surName": "Erator",
                         "dynamicName": "Erator, Op", "email": "op@example.com", "operatorGroupIds": []}],
          "operatorGroups": [],
          "accounts": [{"login": "ops", "password": "secret", "kind": "operator",
                        "subjectId": "bbbbbbbb-0000-4000-8000-000000000001", "apiAccess": true}],
          "lookups": {},
          "incidents": [{"id": "cccccccc-0000-4000-8000-000000000001", "number": "200410-004", "status": "firstLine",
                         "archived": false, "briefDescription": "Other numbering", "request": "Hello",
                         "externalNumber": "", "callerId": "aaaaaaaa-0000-4000-8000-000000000001",
                         "onHold": false, "completed": false, "closed": false,
                         "callDate": "2004-10-12T08:00:00.000+0000", "creationDate": "2004-10-12T08:00:00.000+0000",
                         "modificationDate": "2004-10-12", "actions": [], "requests": [], "attachments": []}],
          "changeTemplates": [],
          "changes": []
        }
        """
}

extension TopdeskDatabase {
    /// Regenerates the demo data from scratch (the static is built once per process).
    mutating func rebuildForTest() {
        self = TopdeskDatabase.makeDemo()
    }
}

@Suite("Database validation")
struct DatabaseValidationTests {
    @Test("the demo database is consistent")
    func demoIsConsistent() {
        #expect(TopdeskDatabase.demo.validationProblems() == [])
    }

    @Test("dangling references and duplicates are reported with the record they concern")
    func problemsAreReported() {
        var database = TopdeskDatabase.demo
        database.incidents.append(database.incidents[0])
        database.accounts[0].subjectId = "missing"
        database.incidents[1].callerId = "nobody"
        database.lookups["colours"] = []
        let problems = database.validationProblems()
        #expect(problems.contains("incident number I 1602 001 appears more than once"))
        #expect(problems.contains("account api.operator: no operator with id missing"))
        #expect(problems.contains { $0.hasPrefix("incident \(database.incidents[1].number): no person") })
        #expect(problems.contains { $0.hasPrefix("lookups: unknown list colours") })
    }
}
