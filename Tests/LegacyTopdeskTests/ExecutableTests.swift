import Foundation
import Testing

@testable import LegacyTopdesk

/// The `legacy-topdesk` program itself, started as a process.
@Suite("The legacy-topdesk program", .timeLimit(.minutes(1)))
struct ExecutableTests {
    /// The program sits next to the test bundle in the build folder.
    static var executable: URL {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while directory.pathExtension == "xctest" || directory.lastPathComponent == "MacOS"
            || directory.lastPathComponent == "Contents"
        {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("legacy-topdesk")
    }

    final class RunningProgram {
        let process = Process()
        let output = Pipe()
        var line = ""

        init(_ arguments: [String]) throws {
            process.executableURL = ExecutableTests.executable
            process.arguments = arguments
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        /// Reads stdout up to the first newline (the "listening" line).
        func readLine() -> String {
            var bytes: [UInt8] = []
            while let byte = try? output.fileHandleForReading.read(upToCount: 1), let first = byte.first,
                first != 0x0A
            {
                bytes.append(first)
            }
            return String(decoding: bytes, as: UTF8.self)
        }

        func port(_ name: String, in line: String) -> Int? {
            line.split(separator: " ").first { $0.hasPrefix("\(name)=") }
                .flatMap { $0.split(separator: ":").last }.flatMap { Int($0) }
        }

        /// Waits for the process to end, up to `timeout`; kills it if it does not.
        func waitForExit(timeout: Duration) -> Int32? {
            let deadline = ContinuousClock.now + timeout
            while process.isRunning, ContinuousClock.now < deadline { usleep(20_000) }
            guard !process.isRunning else {
                process.terminate()
                kill(process.processIdentifier, SIGKILL)
                return nil
            }
            return process.terminationStatus
        }

        deinit {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
    }

    @Test("--help prints the usage and exits 0")
    func help() throws {
        let program = try RunningProgram(["--help"])
        #expect(program.readLine().hasPrefix("Usage: legacy-topdesk"))
        #expect(program.waitForExit(timeout: .seconds(10)) == 0)
    }

    @Test("with --token-ttl 2s a working token becomes a 401; SIGTERM ends the program cleanly")
    func tokenLifetimeAndSigterm() throws {
        let portFile = FileManager.default.temporaryDirectory.appendingPathComponent("ports-\(UUID()).txt").path
        defer { try? FileManager.default.removeItem(atPath: portFile) }
        let program = try RunningProgram([
            "--listen", "127.0.0.1:0", "--control", "127.0.0.1:0", "--token-ttl", "2s", "--port-file", portFile,
        ])
        let line = program.readLine()
        #expect(line.hasPrefix("listening api=127.0.0.1:"))
        let apiPort = try #require(program.port("api", in: line))
        let fileLine = try String(contentsOfFile: portFile, encoding: .utf8)
        #expect(fileLine == String(line.dropFirst("listening ".count)) + "\n")

        let client = try RawHTTPClient(port: apiPort)
        let login = try client.send("GET", "/tas/api/login/operator", headers: [
            ("Authorization", Harness.basic("api.operator", "Operator-Pass-1"))
        ])
        #expect(login.status == 200)
        let headers = tokenHeaders(login.text)
        #expect(try client.send("GET", "/tas/api/incidents/number/I%201602%20001", headers: headers).status == 200)
        Thread.sleep(forTimeInterval: 2.2)
        let expired = try client.send("GET", "/tas/api/incidents/number/I%201602%20001", headers: headers)
        #expect(expired.status == 401)
        #expect(expired.messages == ["No valid authentication token provided"])

        program.process.terminate()
        #expect(program.waitForExit(timeout: .seconds(10)) == 0)
    }

    @Test("a bad option exits 2 with a message")
    func badOption() throws {
        let program = try RunningProgram(["--profile", "future"])
        #expect(program.waitForExit(timeout: .seconds(10)) == 2)
    }
}
