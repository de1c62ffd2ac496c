/// Why the command line was refused; the message names the option.
public struct CommandLineError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// A numeric host and a port, as written on the command line (`127.0.0.1:9080`, `[::1]:9080`).
public struct HostAndPort: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init(parsing text: String, option: String) throws(CommandLineError) {
        let hostPart: Substring, portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw CommandLineError(message: "\(option): expected [IPv6]:PORT, got \(text)")
            }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw CommandLineError(message: "\(option): expected HOST:PORT, got \(text)")
            }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        }
        guard !hostPart.isEmpty, let port = Int(portPart), (0...65535).contains(port) else {
            throw CommandLineError(message: "\(option): expected HOST:PORT with a port from 0 to 65535, got \(text)")
        }
        host = String(hostPart)
        self.port = port
    }

    public var isLoopback: Bool { host == "::1" || host.hasPrefix("127.") }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// The parsed command line of `legacy-topdesk`.
public struct SimulatorCommandLine: Sendable, Equatable {
    public var settings = SimulatorSettings()
    public var api = HostAndPort(host: "127.0.0.1", port: 9080)
    /// The control listener; loopback only, never the API port.
    public var control = HostAndPort(host: "127.0.0.1", port: 9081)
    public var tlsCertificateFile: String?
    public var tlsKeyFile: String?
    public var dataFile: String?
    /// Written once both listeners are bound: `api=HOST:PORT control=HOST:PORT` and a newline.
    public var portFile: String?
    /// Event loops (threads) serving both listeners. Default 2.
    public var loopCount = 2
    public var dumpData = false
    public var showHelp = false

    public init() {}

    public static let usage = """
        Usage: legacy-topdesk [options]

        Simulates a TOPdesk install from before November 2017 (two-step token login).

          --listen HOST:PORT        API listener (default 127.0.0.1:9080; port 0 picks a free port)
          --control HOST:PORT       control listener, loopback only (default 127.0.0.1:9081)
          --token-ttl DURATION      token lifetime from login (default 8h)
          --token-idle DURATION     token idle timeout (default none)
          --profile legacy|modern   modern also accepts Basic login:application-password (default legacy)
          --tls-cert FILE           serve the API over TLS with this certificate chain (PEM) ...
          --tls-key FILE            ... and this private key (PEM)
          --data FILE               load this database instead of the demo one (JSON; see --dump-data)
          --port-file FILE          write "api=HOST:PORT control=HOST:PORT" once listening
          --loops N                 event loops (default 2)
          --quiet                   no request log on stderr
          --login-content-type T    Content-Type of the token after login (default text/plain)
          --no-permission-status N  status for an account without API permission (default 403)
          --max-page-size N         largest page_size (default 100)
          --clamp-page-size         use the largest page_size instead of answering 400 above it
          --html-401                answer 401s with the servlet container's HTML page
          --query-status N          status for a FIQL query= parameter (default 400)
          --api-version V           version reported by /tas/api/version (default 3.1.4)
          --dump-data               print the demo database as JSON and exit
          --help                    show this text

        DURATION is a whole number with ms, s, m or h (500ms, 2s, 30m, 8h).
        On start it prints "listening api=HOST:PORT control=HOST:PORT" on stdout.
        Control listener: GET /stats, POST /restart, GET|POST /faults, GET /requests/last.
        """

    public static func parse(_ arguments: [String]) throws(CommandLineError) -> SimulatorCommandLine {
        var result = SimulatorCommandLine()
        var index = 0
        func value(_ option: String) throws(CommandLineError) -> String {
            index += 1
            guard index < arguments.count else { throw CommandLineError(message: "\(option) needs a value") }
            return arguments[index]
        }
        func number(_ option: String, _ range: ClosedRange<Int>) throws(CommandLineError) -> Int {
            let text = try value(option)
            guard let parsed = Int(text), range.contains(parsed) else {
                throw CommandLineError(message: "\(option): expected a number from \(range.lowerBound) to "
                    + "\(range.upperBound), got \(text)")
            }
            return parsed
        }
        while index < arguments.count {
            let option = arguments[index]
            switch option {
            case "--listen": result.api = try HostAndPort(parsing: try value(option), option: option)
            case "--control": result.control = try HostAndPort(parsing: try value(option), option: option)
            case "--token-ttl": result.settings.tokenLifetime = try parseDuration(try value(option), option: option)
            case "--token-idle": result.settings.tokenIdleTimeout = try parseDuration(try value(option), option: option)
            case "--profile":
                let text = try value(option)
                guard let profile = SimulatorProfile(rawValue: text) else {
                    throw CommandLineError(message: "--profile: expected legacy or modern, got \(text)")
                }
                result.settings.profile = profile
            case "--tls-cert": result.tlsCertificateFile = try value(option)
            case "--tls-key": result.tlsKeyFile = try value(option)
            case "--data": result.dataFile = try value(option)
            case "--port-file": result.portFile = try value(option)
            case "--loops": result.loopCount = try number(option, 1...64)
            case "--quiet": result.settings.logRequests = false
            case "--login-content-type": result.settings.loginContentType = try value(option)
            case "--no-permission-status": result.settings.noPermissionStatus = try number(option, 400...599)
            case "--max-page-size": result.settings.maximumPageSize = try number(option, 1...100_000)
            case "--clamp-page-size": result.settings.rejectOversizedPage = false
            case "--html-401": result.settings.html401 = true
            case "--query-status": result.settings.queryParameterStatus = try number(option, 200...599)
            case "--api-version": result.settings.version = try value(option)
            case "--dump-data": result.dumpData = true
            case "--help", "-h": result.showHelp = true
            default: throw CommandLineError(message: "Unknown option \(option) (see --help)")
            }
            index += 1
        }
        guard (result.tlsCertificateFile == nil) == (result.tlsKeyFile == nil) else {
            throw CommandLineError(message: "--tls-cert and --tls-key go together")
        }
        guard result.control.isLoopback else {
            throw CommandLineError(message: "--control must be a loopback address (127.x.x.x or ::1)")
        }
        if result.api.port != 0, result.api.port == result.control.port, result.api.host == result.control.host {
            throw CommandLineError(message: "--control must not be the API listener")
        }
        return result
    }

    /// `500ms`, `2s`, `30m`, `8h`.
    public static func parseDuration(_ text: String, option: String) throws(CommandLineError) -> Duration {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        for (suffix, milliseconds) in units where text.hasSuffix(suffix) {
            let digits = text.dropLast(suffix.count)
            // "5ms" also ends in "s": only accept when the rest is a number.
            guard let amount = Int64(digits), amount >= 0 else { continue }
            return .milliseconds(amount * milliseconds)
        }
        throw CommandLineError(message: "\(option): expected a duration such as 500ms, 2s, 30m or 8h, got \(text)")
    }
}

extension SimulatorCommandLine {
    /// The line printed on stdout (and written to `--port-file`) once both listeners are bound.
    public static func listeningLine(api: HostAndPort, control: HostAndPort) -> String {
        "listening api=\(api) control=\(control)"
    }

    /// One line of the request log: method, target, status, body bytes, milliseconds. Targets carry
    /// no secrets in this API (tokens and passwords travel in headers, which are never logged).
    public static func requestLogLine(method: String, target: String, status: Int, bytes: Int,
                                      milliseconds: Double) -> String {
        let rounded = (milliseconds * 10).rounded() / 10
        return "\(method) \(target) \(status) \(bytes)B \(rounded)ms"
    }
}
