import Foundation
import Network
import Testing

@testable import LegacyTopdesk

/// The API listener over TLS, with a certificate made for the test and curl as the client.
@Suite("Served: the API over TLS", .timeLimit(.minutes(1)))
struct ServedTLSTests {
    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test("a login and a token call work over TLS")
    func tls() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let certificate = directory + "/cert.pem", key = directory + "/key.pem"
        let made = try ServedTLSTests.run("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", certificate,
        ])
        #expect(made.status == 0)

        let simulator = LegacyTopdeskSimulator()
        let group = EventLoopGroup(loopCount: 1)
        defer { group.shutdown() }
        let server = try LegacyTopdeskServer(
            simulator: simulator, api: HostAndPort(host: "127.0.0.1", port: 0),
            control: HostAndPort(host: "127.0.0.1", port: 0),
            tls: try TLSServerContext(certificateChainFile: certificate, privateKeyFile: key), group: group, log: nil)
        let port = try server.start().api.port
        defer {
            let done = DispatchSemaphore(value: 0)
            server.stop(grace: .milliseconds(100)) { done.signal() }
            _ = done.wait(timeout: .now() + 2)
        }

        let login = try ServedTLSTests.run("/usr/bin/curl", [
            "-sS", "--max-time", "10", "--cacert", certificate, "-u", "api.operator:Operator-Pass-1",
            "https://127.0.0.1:\(port)/tas/api/login/operator",
        ])
        #expect(login.status == 0)
        #expect(login.output.count == 36)
        let incident = try ServedTLSTests.run("/usr/bin/curl", [
            "-sS", "--max-time", "10", "--cacert", certificate, "-H", "Authorization: TOKEN id=\"\(login.output)\"",
            "https://127.0.0.1:\(port)/tas/api/incidents/number/I%201602%20001",
        ])
        #expect(incident.output.contains("\"number\":\"I 1602 001\""))
    }
}
