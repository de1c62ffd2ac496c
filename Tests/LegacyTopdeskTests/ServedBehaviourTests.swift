import Foundation
import Testing

@testable import LegacyTopdesk

/// Token deaths, pitfalls and faults over real sockets.
@Suite("Served: tokens, pitfalls and faults", .timeLimit(.minutes(1)))
struct ServedBehaviourTests {
    @Test("logout turns a working token into a 401")
    func logout() throws {
        let served = try ServedSimulator()
        let token = try served.login()
        let client = try served.apiClient()
        #expect(try client.send("GET", "/tas/api/incidents/number/I%201602%20001", headers: tokenHeaders(token)).status
            == 200)
        #expect(try client.send("GET", "/tas/api/logout", headers: tokenHeaders(token)).status == 200)
        let after = try client.send("GET", "/tas/api/incidents/number/I%201602%20001", headers: tokenHeaders(token))
        #expect(after.status == 401)
        #expect(after.messages == ["No valid authentication token provided"])
    }

    @Test("POST /restart on the control listener turns a working token into a 401")
    func restart() throws {
        let served = try ServedSimulator()
        let token = try served.login()
        let client = try served.apiClient()
        #expect(try client.send("GET", "/tas/api/incidents", headers: tokenHeaders(token)).status == 206)
        #expect(try served.control("POST", "/restart").status == 200)
        #expect(try client.send("GET", "/tas/api/incidents", headers: tokenHeaders(token)).status == 401)
        #expect(try served.control("GET", "/stats").json?["restarts"] == 1)
    }

    @Test("the control listener is not part of the API port")
    func separateListeners() throws {
        let served = try ServedSimulator()
        #expect(served.apiPort != served.controlPort)
        let onAPI = try served.apiClient().send("GET", "/stats")
        #expect(onAPI.status == 200)
        #expect(onAPI.headers.first(name: "Content-Type")?.hasPrefix("text/html") == true)
        #expect(try served.control("GET", "/tas/api/version").status == 404)
    }

    @Test("pitfalls over the wire: HTML for a wrong base path, 302 to the login page, Latin-1 bytes intact")
    func pitfalls() throws {
        let served = try ServedSimulator()
        let client = try served.apiClient()
        let wrongBase = try client.send("GET", "/tas/login/operator", headers: [
            ("Authorization", Harness.basic("api.operator", "Operator-Pass-1"))
        ])
        #expect(wrongBase.status == 200)
        #expect(wrongBase.text.contains("<html"))
        let secure = try client.send("GET", "/tas/secure/incident?action=show")
        #expect(secure.status == 302)
        #expect(secure.headers.first(name: "Location") == "/tas/public/login/form")
        let token = try served.login()
        let latin1 = try client.send("GET", "/tas/api/incidents/number/I%201605%20001", headers: tokenHeaders(token))
        #expect(latin1.status == 200)
        #expect(latin1.body.contains(0xFC))
        #expect(String(validating: latin1.body, as: UTF8.self) == nil)
        #expect(try client.send("GET", "/tas/api/incidents?status=FirstLine", headers: tokenHeaders(token)).status
            == 400)
        let basicLogout = try client.send("GET", "/tas/api/logout", headers: [
            ("Authorization", Harness.basic("api.operator", "Operator-Pass-1"))
        ])
        #expect(basicLogout.status == 401)
    }

    @Test("a multipart upload over the wire is stored and downloads byte for byte")
    func upload() throws {
        let served = try ServedSimulator()
        let token = try served.login()
        let client = try served.apiClient()
        let content: [UInt8] = (0..<600).map { UInt8($0 % 256) }
        let body = Array(("--sep\r\nContent-Disposition: form-data; name=\"file\"; filename=\"dump.bin\"\r\n"
            + "Content-Type: application/octet-stream\r\n\r\n").utf8) + content + Array("\r\n--sep--\r\n".utf8)
        let multipart = [("Content-Type", "multipart/form-data; boundary=sep")]
        let uploaded = try client.send("POST", "/tas/api/incidents/number/I%201602%20001/attachments",
                                       headers: tokenHeaders(token) + multipart, body: body)
        #expect(uploaded.status == 200)
        let url = uploaded.json?["downloadUrl"]?.stringValue ?? "/missing"
        let downloaded = try client.send("GET", url, headers: tokenHeaders(token))
        #expect(downloaded.body == content)
    }

    @Test("latency delays the answer without holding up other connections on the same loop")
    func latency() throws {
        let served = try ServedSimulator(loops: 1)
        #expect(try served.control("POST", "/faults", body: #"{"latencyMs": 600}"#).status == 200)
        let slow = try served.apiClient()
        let started = ContinuousClock.now
        try slow.write(Array("GET /tas/api/version HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        // While the slow answer waits on its timer, the same loop answers the control listener.
        let statistics = try served.control("GET", "/stats")
        #expect(statistics.status == 200)
        #expect(ContinuousClock.now - started < .milliseconds(400))
        let response = try slow.readResponse()
        #expect(response.status == 200)
        #expect(ContinuousClock.now - started >= .milliseconds(600))
    }

    @Test("faults: random 500s, HTML 401s, and connections closed mid-response")
    func faults() throws {
        let served = try ServedSimulator()
        let client = try served.apiClient()
        #expect(try served.control("POST", "/faults", body: #"{"status500Rate": 1}"#).status == 200)
        #expect(try client.send("GET", "/tas/api/version").status == 500)
        #expect(try served.control("POST", "/faults", body: #"{"html401": true}"#).status == 200)
        let html = try client.send("GET", "/tas/api/incidents")
        #expect(html.status == 401)
        #expect(html.text.contains("HTTP Status 401"))
        #expect(try served.control("POST", "/faults", body: #"{"dropRate": 1}"#).status == 200)
        let token = try? served.login()
        #expect(token == nil)
        let dropped = try served.apiClient()
        #expect(throws: RawHTTPClient.Failure.self) {
            _ = try dropped.send("GET", "/tas/api/version")
        }
        #expect(dropped.closedByPeer)
        #expect(try served.control("POST", "/faults", body: "{}").status == 200)
        #expect(try served.apiClient().send("GET", "/tas/api/version").status == 200)
    }
}
