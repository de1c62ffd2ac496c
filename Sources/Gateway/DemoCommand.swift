import Credentials
import Foundation
import LegacyTopdesk
import Network

/// `tokenbridge demo`: the gateway on https://127.0.0.1:8443 in front of an embedded simulator,
/// with a development certificate, a throw-away credential store and two demo credentials printed
/// once. The quickest way to see it work; nothing it makes is fit for production.
enum DemoCommand {
    static let usage = """
        Usage: tokenbridge demo [--listen ADDRESS:PORT]

        Starts an embedded legacy-topdesk simulator on a free loopback port and the gateway in front
        of it, on ADDRESS:PORT (default 127.0.0.1:8443) with a development certificate from certs/
        (made with certs/make-dev-certs.sh when missing). Issues one API key and one application
        password for the simulator's operator account in a temporary credential store, prints them
        with ready curl lines, and serves until Ctrl-C (tokens are logged out on the way out).
        """

    static let accountName = "demo"
    static let operatorLogin = TopdeskDatabase.DemoAccounts.operatorLogin
    static let operatorPassword = TopdeskDatabase.DemoAccounts.operatorPassword
    static let appPasswordLogin = "demo.integration"

    static func run(_ arguments: [String], output: (String) -> Void, errorOutput: (String) -> Void) -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") {
            output(usage)
            return GatewayCommandLine.exitSuccess
        }
        let options: [String: String]
        switch GatewayCommandLine.parseOptions(arguments, known: ["--listen"]) {
        case .success(let parsed): options = parsed
        case .failure(let problem):
            errorOutput("\(problem)\n\n\(usage)")
            return GatewayCommandLine.exitUsage
        }
        guard let (listenHost, listenPort) = ConfigurationLoader.splitHostPort(options["--listen"] ?? "127.0.0.1:8443")
        else {
            errorOutput("--listen: expected ADDRESS:PORT, e.g. 127.0.0.1:8443 or [::1]:8443")
            return GatewayCommandLine.exitUsage
        }
        let logger = GatewayLogger(level: .info)

        // 1. The development certificate.
        let certificates: DevelopmentCertificates
        switch DevelopmentCertificates.findOrCreate() {
        case .success(let found): certificates = found
        case .failure(let problem):
            errorOutput("demo: \(problem)")
            return GatewayCommandLine.exitFailure
        }

        // 2. The embedded simulator.
        var settings = SimulatorSettings()
        settings.logRequests = false
        let simulatorGroup = EventLoopGroup(loopCount: 1)
        let simulatorServer: LegacyTopdeskServer
        let simulatorPorts: (api: HostAndPort, control: HostAndPort)
        do {
            simulatorServer = try LegacyTopdeskServer(
                simulator: LegacyTopdeskSimulator(settings: settings),
                api: HostAndPort(host: "127.0.0.1", port: 0), control: HostAndPort(host: "127.0.0.1", port: 0),
                tls: nil, group: simulatorGroup, log: nil)
            simulatorPorts = try simulatorServer.start()
        } catch {
            simulatorGroup.shutdown()
            errorOutput("demo: cannot start the embedded simulator: \(error)")
            return GatewayCommandLine.exitFailure
        }

        // 3. A throw-away credential store and the gateway's configuration.
        let directory = NSTemporaryDirectory() + "tokenbridge-demo-\(getpid())-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var configuration = GatewayConfiguration()
        configuration.listen.address = listenHost
        configuration.listen.port = listenPort
        configuration.listen.tls = .init(certificate: certificates.serverChain, privateKey: certificates.serverKey)
        configuration.admin.port = 0
        configuration.upstreams = [GatewayConfiguration.Upstream(
            name: "simulator", url: UpstreamURL(scheme: "http", host: "127.0.0.1", port: simulatorPorts.api.port))]
        configuration.accounts = [GatewayConfiguration.Account(
            name: accountName, upstream: "simulator", kind: .operator, login: operatorLogin,
            password: Secret(value: operatorPassword, source: .literal))]
        configuration.credentials.store = directory + "/credentials.sqlite"
        configuration.shutdown.grace = .seconds(5)

        // 4. The gateway and two demo credentials.
        let gateway: Gateway
        let apiKey: IssuedCredential
        let appPassword: IssuedCredential
        let ports: Gateway.Ports
        do {
            gateway = try Gateway(configuration: configuration, logger: logger)
            apiKey = try gateway.store.create(CredentialRequest(clientName: "demo-api-key", accountName: accountName,
                                                                kind: .apiKey))
            appPassword = try gateway.store.create(CredentialRequest(
                clientName: "demo-app-password", accountName: accountName, kind: .appPassword(login: appPasswordLogin)))
            ports = try gateway.start()
        } catch {
            errorOutput("demo: cannot start the gateway: \(error)")
            stopSimulator(simulatorServer, group: simulatorGroup)
            try? FileManager.default.removeItem(atPath: directory)
            return GatewayCommandLine.exitFailure
        }

        let host = listenHost.contains(":") ? "[\(listenHost)]" : listenHost
        let origin = "https://\(host):\(ports.client)"
        let incident = "/tas/api/incidents/number/I%201602%20001"
        let ca = certificates.displayCAPath
        output("""

            TokenBridge demo: \(origin) -> embedded legacy TOPdesk at http://127.0.0.1:\(simulatorPorts.api.port)
            (simulator control: http://127.0.0.1:\(simulatorPorts.control.port), \
            gateway admin: http://127.0.0.1:\(ports.admin)/status)

            API key (client demo-api-key, account '\(accountName)' = operator \(operatorLogin)):
              \(apiKey.secret)
            Application password (login \(appPasswordLogin)):
              \(appPassword.secret)
            Both are shown this once and live in a temporary store removed on exit.

            Try:
              curl --cacert \(ca) -H "X-API-Key: \(apiKey.secret)" \(origin)\(incident)
              curl --cacert \(ca) -H "Authorization: Bearer \(apiKey.secret)" "\(origin)/tas/api/incidents?page_size=2"
              curl --cacert \(ca) -u '\(appPasswordLogin):\(appPassword.secret)' \(origin)/tas/api/operators/current
              curl --cacert \(ca) -u '\(appPasswordLogin):\(appPassword.secret)' -X PUT \\
                   -H "Content-Type: application/json" -d '{"briefDescription": "Printer on fire"}' \(origin)\(incident)

            Ctrl-C stops (requests in flight finish, tokens are logged out).

            """)
        fflush(nil)  // the banner must show before the wait, also when stdout is a pipe
        GatewayCommandLine.waitForTerminationSignal(logger: logger)
        GatewayCommandLine.stopAndWait(gateway)
        stopSimulator(simulatorServer, group: simulatorGroup)
        try? FileManager.default.removeItem(atPath: directory)
        return GatewayCommandLine.exitSuccess
    }

    private static func stopSimulator(_ server: LegacyTopdeskServer, group: EventLoopGroup) {
        let done = DispatchSemaphore(value: 0)
        server.stop(grace: .seconds(1)) { done.signal() }
        _ = done.wait(timeout: .now() + 3)
        group.shutdown()
    }
}

/// The development certificate under `certs/`: found beside the current directory or the
/// executable (walking up, so `.build/debug/tokenbridge` finds the repository's), and made with
/// `certs/make-dev-certs.sh` (OpenSSL) when missing.
struct DevelopmentCertificates {
    var directory: String
    var serverChain: String { directory + "/server.pem" }
    var serverKey: String { directory + "/server.key" }
    var caFile: String { directory + "/dev-ca.pem" }

    /// The CA path as a curl line should show it: relative when under the current directory.
    var displayCAPath: String {
        let current = FileManager.default.currentDirectoryPath + "/"
        return caFile.hasPrefix(current) ? String(caFile.dropFirst(current.count)) : caFile
    }

    static func findOrCreate() -> Result<DevelopmentCertificates, GatewayStartError> {
        guard let directory = certificatesDirectory() else {
            return .failure(GatewayStartError(
                "cannot find certs/make-dev-certs.sh in the current directory, the executable's or any above; "
                + "run the demo from the repository root"))
        }
        let certificates = DevelopmentCertificates(directory: directory)
        let manager = FileManager.default
        if [certificates.serverChain, certificates.serverKey, certificates.caFile].allSatisfy(manager.fileExists) {
            return .success(certificates)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [directory + "/make-dev-certs.sh", directory]
        process.standardOutput = FileHandle.standardError
        do {
            try process.run()
        } catch {
            return .failure(GatewayStartError("cannot run certs/make-dev-certs.sh: \(error)"))
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0, manager.fileExists(atPath: certificates.serverChain) else {
            return .failure(GatewayStartError("certs/make-dev-certs.sh failed (is openssl installed?)"))
        }
        return .success(certificates)
    }

    private static func certificatesDirectory() -> String? {
        var starts = [FileManager.default.currentDirectoryPath]
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            starts.append((executable as NSString).deletingLastPathComponent)
        }
        for start in starts {
            var directory = start
            while true {
                let candidate = directory + "/certs"
                if FileManager.default.fileExists(atPath: candidate + "/make-dev-certs.sh") { return candidate }
                let parent = (directory as NSString).deletingLastPathComponent
                if parent == directory || parent.isEmpty { break }
                directory = parent
            }
        }
        return nil
    }
}
