import Dispatch
import Foundation
import LegacyTopdesk
import Network

/// legacy-topdesk: a simulated TOPdesk install from before November 2017. See `--help`.

func fail(_ message: String, status: Int32) -> Never {
    FileHandle.standardError.write(Data("legacy-topdesk: \(message)\n".utf8))
    exit(status)
}

let commandLine: SimulatorCommandLine
do {
    commandLine = try SimulatorCommandLine.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    fail(error.description, status: 2)
}
if commandLine.showHelp {
    print(SimulatorCommandLine.usage)
    exit(0)
}
if commandLine.dumpData {
    do {
        FileHandle.standardOutput.write(try TopdeskDatabase.demo.encodedForFile())
        FileHandle.standardOutput.write(Data("\n".utf8))
        exit(0)
    } catch {
        fail("cannot encode the demo database: \(error)", status: 1)
    }
}

let database: TopdeskDatabase
do {
    database = try commandLine.dataFile.map(TopdeskDatabase.load(contentsOf:)) ?? .demo
} catch {
    fail("cannot load --data \(commandLine.dataFile ?? ""): \(error)", status: 1)
}
let problems = database.validationProblems()
guard problems.isEmpty else {
    fail("--data \(commandLine.dataFile ?? ""):\n  " + problems.joined(separator: "\n  "), status: 1)
}

let tls: TLSServerContext?
do {
    tls = try commandLine.tlsCertificateFile.map {
        try TLSServerContext(certificateChainFile: $0, privateKeyFile: commandLine.tlsKeyFile ?? "")
    }
} catch {
    fail("cannot load the TLS certificate or key: \(error)", status: 1)
}

let simulator = LegacyTopdeskSimulator(settings: commandLine.settings, database: database)
let group = EventLoopGroup(loopCount: commandLine.loopCount)
let writeLogLine: @Sendable (String) -> Void = { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
let requestLog = commandLine.settings.logRequests ? writeLogLine : nil
let server: LegacyTopdeskServer
let bound: (api: HostAndPort, control: HostAndPort)
do {
    server = try LegacyTopdeskServer(simulator: simulator, api: commandLine.api, control: commandLine.control, tls: tls,
                                     group: group, log: requestLog)
    bound = try server.start()
} catch {
    group.shutdown()
    fail("cannot listen: \(error)", status: 1)
}

let listening = SimulatorCommandLine.listeningLine(api: bound.api, control: bound.control)
if let portFile = commandLine.portFile {
    do {
        try Data((listening.dropFirst("listening ".count) + "\n").utf8).write(to: URL(fileURLWithPath: portFile))
    } catch {
        fail("cannot write --port-file \(portFile): \(error)", status: 1)
    }
}
FileHandle.standardOutput.write(Data((listening + "\n").utf8))

// SIGTERM and SIGINT stop the listeners, let requests in flight finish briefly, and exit 0.
let stopped = DispatchSemaphore(value: 0)
var signalSources: [DispatchSourceSignal] = []
for signalNumber in [SIGTERM, SIGINT] {
    signal(signalNumber, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
    source.setEventHandler { @Sendable in stopped.signal() }
    source.resume()
    signalSources.append(source)
}
stopped.wait()
let drained = DispatchSemaphore(value: 0)
server.stop(grace: .seconds(2)) { drained.signal() }
_ = drained.wait(timeout: .now() + 3)
group.shutdown()
exit(0)
