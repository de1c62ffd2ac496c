import Foundation
import Synchronization

/// A program of this package (`tokenbridge`, `legacy-topdesk`) run as a child process, its output
/// collected line by line on a thread of its own. Killed when released if still running.
final class ChildProgram: @unchecked Sendable {
    let process = Process()
    private let lines = Shared<[String]>([])
    private let pipe = Pipe()

    /// The build folder that holds the test bundle holds the programs too (`swift build` builds
    /// every product before `swift test` runs).
    static func executable(_ name: String) -> URL {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while directory.pathExtension == "xctest" || directory.lastPathComponent == "MacOS"
            || directory.lastPathComponent == "Contents" {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent(name)
    }

    /// Starts `name` with `arguments`; `captureStandardError` picks which stream is collected (the
    /// other goes nowhere).
    init(_ name: String, _ arguments: [String], captureStandardError: Bool,
         environment: [String: String]? = nil) throws {
        let url = Self.executable(name)
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw ChildProgramError("\(url.path) is missing: build the package first (swift build)")
        }
        process.executableURL = url
        process.arguments = arguments
        if let environment { process.environment = environment }
        if captureStandardError {
            process.standardError = pipe
            process.standardOutput = FileHandle.nullDevice
        } else {
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        let handle = pipe.fileHandleForReading
        let lines = self.lines
        Thread.detachNewThread {
            var pending: [UInt8] = []
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                for byte in data {
                    if byte == 0x0A {
                        let line = String(decoding: pending, as: UTF8.self)
                        lines.update { $0.append(line) }
                        pending.removeAll()
                    } else {
                        pending.append(byte)
                    }
                }
            }
        }
    }

    var output: [String] { lines.value }

    /// The first line containing `text`, waiting up to `timeout` for it.
    func waitForLine(containing text: String, timeout: Duration = .seconds(20)) async -> String? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = output.first(where: { $0.contains(text) }) { return line }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    func send(_ signalNumber: Int32) {
        kill(process.processIdentifier, signalNumber)
    }

    /// Waits for the process to end, up to `timeout`; kills it and returns nil if it does not.
    func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        guard !process.isRunning else {
            kill(process.processIdentifier, SIGKILL)
            return nil
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

struct ChildProgramError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// `legacy-topdesk` as a child process on free loopback ports, with its control listener.
final class SimulatorProcess: Sendable {
    let program: ChildProgram
    let apiPort: Int
    let control: TestHTTPClient

    init() async throws {
        program = try ChildProgram("legacy-topdesk", ["--listen", "127.0.0.1:0", "--control", "127.0.0.1:0",
                                                      "--quiet", "--loops", "1"], captureStandardError: false)
        guard let line = await program.waitForLine(containing: "listening") else {
            throw ChildProgramError("legacy-topdesk did not report its ports")
        }
        func port(_ name: String) -> Int? {
            line.split(separator: " ").first { $0.hasPrefix("\(name)=") }
                .flatMap { $0.split(separator: ":").last }.flatMap { Int($0) }
        }
        guard let api = port("api"), let controlPort = port("control") else {
            throw ChildProgramError("cannot read the ports from: \(line)")
        }
        apiPort = api
        control = try TestHTTPClient(port: controlPort, caFile: nil)
    }

    func stats() async -> [String: Any] {
        await control.send("GET", "/stats").json ?? [:]
    }

    func setFaults(_ json: String) async -> Int {
        await control.send("POST", "/faults", headers: [("Content-Type", "application/json")],
                           body: Array(json.utf8)).status
    }

    func stop() async {
        control.shutdown()
        program.send(SIGTERM)
        _ = await program.waitForExit(timeout: .seconds(10))
    }
}
