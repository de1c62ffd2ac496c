import Dispatch
import Foundation

/// The `tokenbridge` program: `serve`, `check-config`, `demo` (and `credentials`, which the
/// executable wires to the credential store). Lives in this module so tests can call it.
///
/// Exit status: 0 success, 1 failure (bad configuration, cannot start), 2 usage error.
public enum GatewayCommandLine {
    public static let exitSuccess: Int32 = 0
    public static let exitFailure: Int32 = 1
    public static let exitUsage: Int32 = 2

    public static let usage = """
        Usage: tokenbridge <command> [options]

        Commands:
          serve --config FILE [--log-level LEVEL]   run the gateway
          check-config --config FILE                validate a configuration file and explain errors
          credentials create|list|revoke ...        manage client credentials (see credentials --help)
          demo [--listen ADDRESS:PORT]              the gateway in front of an embedded simulator

        Run 'tokenbridge <command> --help' for a command's options.
        """

    static let serveUsage = """
        Usage: tokenbridge serve --config FILE [--log-level LEVEL]

        Runs the gateway with the configuration FILE (JSON5) until SIGINT or SIGTERM, then stops
        accepting, lets requests in flight finish (shutdown.grace) and logs every token out.
        SIGHUP reads FILE again and applies it (certificates, accounts, upstreams, credentials);
        a file with errors is refused and the running configuration stays.
          --config FILE       the configuration file (required)
          --log-level LEVEL   trace, debug, info, notice, warning, error or critical (overrides log.level)
        """

    static let checkConfigUsage = """
        Usage: tokenbridge check-config --config FILE

        Reads FILE as the gateway would and prints every error, each naming its key; exits 0 when
        the file is valid (warnings are printed but do not fail it), 1 otherwise.
        """

    /// Runs the command named by `arguments[0]`. `output` gets results, `errorOutput` messages.
    public static func run(_ arguments: [String], output: (String) -> Void = { print($0) },
                           errorOutput: (String) -> Void = writeToStandardError) -> Int32 {
        guard let command = arguments.first else {
            errorOutput(usage)
            return exitUsage
        }
        let rest = Array(arguments.dropFirst())
        switch command {
        case "help", "--help", "-h":
            output(usage)
            return exitSuccess
        case "serve":
            return serve(rest, output: output, errorOutput: errorOutput)
        case "check-config":
            return checkConfig(rest, output: output, errorOutput: errorOutput)
        case "demo":
            return DemoCommand.run(rest, output: output, errorOutput: errorOutput)
        default:
            errorOutput("unknown command '\(command)'\n\n\(usage)")
            return exitUsage
        }
    }

    // MARK: check-config

    public static func checkConfig(_ arguments: [String], output: (String) -> Void,
                                   errorOutput: (String) -> Void) -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") {
            output(checkConfigUsage)
            return exitSuccess
        }
        let options: [String: String]
        switch parseOptions(arguments, known: ["--config"]) {
        case .success(let parsed): options = parsed
        case .failure(let message):
            errorOutput("\(message)\n\n\(checkConfigUsage)")
            return exitUsage
        }
        guard let path = options["--config"] else {
            errorOutput("--config FILE is required\n\n\(checkConfigUsage)")
            return exitUsage
        }
        let (errors, warnings) = GatewayConfiguration.check(path: path)
        for warning in warnings { errorOutput("warning: \(warning)") }
        guard errors.isEmpty else {
            for error in errors { errorOutput("error: \(error)") }
            errorOutput("\(path): \(errors.count) error\(errors.count == 1 ? "" : "s")")
            return exitFailure
        }
        output("\(path): configuration is valid")
        return exitSuccess
    }

    // MARK: serve

    static func serve(_ arguments: [String], output: (String) -> Void, errorOutput: (String) -> Void) -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") {
            output(serveUsage)
            return exitSuccess
        }
        let options: [String: String]
        switch parseOptions(arguments, known: ["--config", "--log-level"]) {
        case .success(let parsed): options = parsed
        case .failure(let message):
            errorOutput("\(message)\n\n\(serveUsage)")
            return exitUsage
        }
        guard let path = options["--config"] else {
            errorOutput("--config FILE is required\n\n\(serveUsage)")
            return exitUsage
        }
        var configuration: GatewayConfiguration
        do {
            configuration = try GatewayConfiguration.load(path: path)
        } catch {
            for issue in error.errors { errorOutput("error: \(issue)") }
            return exitFailure
        }
        if let levelName = options["--log-level"] {
            guard let level = GatewayConfiguration.LogLevel(rawValue: levelName) else {
                errorOutput("--log-level: '\(levelName)' is not one of "
                            + GatewayConfiguration.LogLevel.allCases.map(\.rawValue).joined(separator: ", "))
                return exitUsage
            }
            configuration.log.level = level
        }
        let logger = GatewayLogger(level: configuration.log.level)
        let gateway: Gateway
        do {
            gateway = try Gateway(configuration: configuration, logger: logger)
        } catch {
            logger.error("cannot start", ["reason": error.description])
            return exitFailure
        }
        // Signals are watched before the listeners open: a SIGTERM or SIGHUP sent as soon as the
        // gateway answers must find its handler, not the default action.
        let logLevelOverride = options["--log-level"].flatMap(GatewayConfiguration.LogLevel.init(rawValue:))
        let signals = SignalWatcher(logger: logger) {
            gateway.logger.info("signal received, reloading", ["signal": "SIGHUP", "file": path])
            gateway.reload(path: path, logLevel: logLevelOverride)
        }
        do {
            try gateway.start()
        } catch {
            logger.error("cannot start", ["reason": error.description])
            stopAndWait(gateway)
            return exitFailure
        }
        signals.waitForTermination()
        stopAndWait(gateway)
        return exitSuccess
    }

    // MARK: Shared pieces

    /// Blocks until SIGINT or SIGTERM. A second signal while stopping ends the process at once.
    static func waitForTerminationSignal(logger: GatewayLogger) {
        SignalWatcher(logger: logger, onReload: nil).waitForTermination()
    }

    /// Stops the gateway and waits until it is done (tokens logged out, loops stopped).
    static func stopAndWait(_ gateway: Gateway) {
        let done = DispatchSemaphore(value: 0)
        gateway.stop { _ in done.signal() }
        done.wait()
    }

    /// `--name value` pairs; anything else is a usage error naming it.
    static func parseOptions(_ arguments: [String], known: Set<String>) -> Result<[String: String], UsageError> {
        var options: [String: String] = [:]
        var index = 0
        while index < arguments.count {
            var name = arguments[index]
            var value: String?
            if let equals = name.firstIndex(of: "="), name.hasPrefix("--") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard known.contains(name) else { return .failure(UsageError("unknown option '\(name)'")) }
            if value == nil {
                index += 1
                guard index < arguments.count else { return .failure(UsageError("\(name) needs a value")) }
                value = arguments[index]
            }
            options[name] = value
            index += 1
        }
        return .success(options)
    }

    public static func writeToStandardError(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    public struct UsageError: Error, Sendable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }
}

extension GatewayCommandLine {
    public static let credentialsUsage = """
        Usage: tokenbridge credentials <create|list|revoke> --config FILE [options]

          create --client NAME --account ACCOUNT (--api-key | --app-password LOGIN)
                 [--scope METHOD:PATH-PREFIX]... [--expires DATE] [--json]
                 issues a credential; its secret is printed once and stored only as a hash
          list [--json]      every credential with its status (never a secret)
          revoke ID          revokes a credential; a running gateway stops accepting it within a second

        --config FILE names the gateway configuration: its credentials.store is the store used and
        its accounts are the names --account accepts.
        """

    /// What the `credentials` command needs from `--config`: the store path and the account names.
    public struct CredentialsContext: Sendable, Equatable {
        public var storePath: String
        public var accountNames: Set<String>
        /// The arguments without `--config FILE`, for `CredentialsCommandLine`.
        public var arguments: [String]
    }

    /// Finds `--config FILE` among the `credentials` arguments and reads the configuration.
    public static func credentialsContext(_ arguments: [String]) -> Result<CredentialsContext, UsageError> {
        var rest: [String] = []
        var path: String?
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--config" {
                guard index + 1 < arguments.count else { return .failure(UsageError("--config needs a value")) }
                path = arguments[index + 1]
                index += 2
                continue
            }
            if argument.hasPrefix("--config=") {
                path = String(argument.dropFirst("--config=".count))
                index += 1
                continue
            }
            rest.append(argument)
            index += 1
        }
        guard let path else { return .failure(UsageError("--config FILE is required")) }
        do {
            let configuration = try GatewayConfiguration.load(path: path)
            return .success(CredentialsContext(storePath: configuration.credentials.store,
                                               accountNames: Set(configuration.accounts.map(\.name)),
                                               arguments: rest))
        } catch {
            return .failure(UsageError("\(path) is not a valid configuration:\n"
                                       + error.errors.map { "error: \($0)" }.joined(separator: "\n")))
        }
    }
}
