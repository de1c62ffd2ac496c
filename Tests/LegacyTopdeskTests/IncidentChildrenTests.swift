import HTTP1
import Testing

@testable import LegacyTopdesk

@Suite("Actions, requests, progress trail and attachments")
struct IncidentChildrenTests {
    let harness = Harness()

    @Test("actions and requests list like other lists, newest first")
    func memos() {
        let token = harness.operatorToken()
        // Demo incident index 3 has three actions.
        let number = TopdeskDatabase.demo.incidents[3].number.replacingOccurrences(of: " ", with: "%20")
        let actions = harness.get("/tas/api/incidents/number/\(number)/actions", token: token)
        #expect(actions.status == 200)
        #expect(actions.jsonArray.count == 3)
        #expect(actions.jsonArray.first?["memoText"] == "Step 3: Escalated to the supplier.")
        let paged = harness.get("/tas/api/incidents/number/\(number)/actions?page_size=2", token: token)
        #expect(paged.status == 206)
        #expect(harness.get("/tas/api/incidents/number/\(number)/actions?page_size=101", token: token).status == 400)
        #expect(harness.get("/tas/api/incidents/number/\(number)/requests", token: token).jsonArray.count == 1)
        let trail = harness.get("/tas/api/incidents/number/\(number)/progresstrail", token: token)
        #expect(trail.jsonArray.count == 4)
        let count = harness.get("/tas/api/incidents/number/\(number)/progresstrail/count", token: token)
        #expect(count.json?["numberOfItems"] == .int(4))
    }

    @Test("a person does not see actions that are invisible for the caller")
    func invisibleActions() throws {
        // Demo incident 3's caller is B. Palmer, and its second action is invisible for the caller.
        let incident = TopdeskDatabase.demo.incidents[3]
        #expect(incident.callerId == TopdeskDatabase.DemoIDs.requester)
        let token = harness.personToken()
        let actions = harness.get("/tas/api/incidents/id/\(incident.id)/actions", token: token)
        #expect(actions.jsonArray.count == 2)
    }

    static func upload(_ harness: Harness, token: String, partName: String = "file", boundary: String = "b0undary",
                       declaredBoundary: String? = nil) -> SimulatorResponse {
        let body = Array((
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(partName)\"; filename=\"log.bin\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n").utf8) + [0x00, 0x01, 0xFE, 0xFF]
            + Array(("\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\nThe log\r\n"
                + "--\(boundary)--\r\n").utf8)
        return harness.send("POST", "/tas/api/incidents/number/I%201602%20001/attachments", headers: [
            ("Authorization", Harness.tokenHeader(token)),
            ("Content-Type", "multipart/form-data; boundary=\(declaredBoundary ?? boundary)"),
        ], body: body)
    }

    @Test("an upload in part 'file' is answered with its id, name, size and download URL, and downloads")
    func uploadAndDownload() throws {
        let token = harness.operatorToken()
        let response = IncidentChildrenTests.upload(harness, token: token)
        #expect(response.status == 200)
        let json = try #require(response.json)
        #expect(json["fileName"] == "log.bin")
        #expect(json["size"] == .int(4))
        #expect(json["description"] == "The log")
        let url = try #require(json["downloadUrl"]?.stringValue)
        let download = harness.get(url, token: token)
        #expect(download.status == 200)
        #expect(download.body == [0x00, 0x01, 0xFE, 0xFF])
        #expect(download.headers.first(name: "Content-Type") == "application/octet-stream")
        let list = harness.get("/tas/api/incidents/number/I%201602%20001/attachments", token: token)
        #expect(list.jsonArray.count == 2)
    }

    @Test("an upload as the topdesk Python library makes it (LF, base64) stores the decoded file")
    func uploadFromTheTopdeskLibrary() throws {
        let token = harness.operatorToken()
        let response = harness.send("POST", "/tas/api/incidents/number/I%201602%20001/attachments", headers: [
            ("Authorization", Harness.tokenHeader(token)), ("Content-Type", "multipart/form-data;boundary=BOUNDARY"),
        ], body: SupportTests.topdeskLibraryBody)
        #expect(response.status == 200)
        let json = try #require(response.json)
        #expect(json["fileName"] == "note.txt")
        #expect(json["size"] == .int(5))
        #expect(json["description"] == "A note")
        let download = harness.get(try #require(json["downloadUrl"]?.stringValue), token: token)
        #expect(download.body == Array("hello".utf8))
    }

    @Test("an upload with the wrong part name or boundary arrives empty and is refused")
    func emptyUploads() {
        let token = harness.operatorToken()
        #expect(IncidentChildrenTests.upload(harness, token: token, partName: "upload").status == 400)
        #expect(IncidentChildrenTests.upload(harness, token: token, declaredBoundary: "other").status == 400)
        let notMultipart = harness.sendJSON("POST", "/tas/api/incidents/number/I%201602%20001/attachments",
                                            token: token, "{}")
        #expect(notMultipart.status == 415)
    }
}
