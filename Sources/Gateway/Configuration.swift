import TokenPool

/// The gateway's configuration, read from one JSON5 file (comments allowed) by
/// `GatewayConfiguration.load(path:environment:)`. Values are resolved: durations and sizes parsed,
/// relative paths made absolute against the configuration file's directory, secrets read from
/// their environment variable or file. A reload yields a new value; a running gateway never sees
/// one change under it.
///
/// Unknown keys are errors. Every key below states its default; keys without one are required.
public struct GatewayConfiguration: Sendable, Equatable {
    /// `listen`: where clients connect.
    public var listen = Listen()
    /// `admin`: the admin listener (`/healthz`, `/readyz`, `/metrics`, `/status`).
    public var admin = Admin()
    /// `upstreams`: the legacy installs, at least one.
    public var upstreams: [Upstream] = []
    /// `accounts`: the legacy accounts client credentials act as, at least one.
    public var accounts: [Account] = []
    /// `tokens`: lifetime, renewal and pool size of legacy session tokens.
    public var tokens = Tokens()
    /// `credentials`: the store of client credentials.
    public var credentials = Credentials()
    /// `limits`: sizes of request heads, bodies and the replay buffer.
    public var limits = Limits()
    /// `log`: logging.
    public var log = Log()
    /// `shutdown`: stopping.
    public var shutdown = Shutdown()
    /// Things that work but deserve attention (a literal password, plain HTTP on loopback).
    public var warnings: [ConfigurationIssue] = []

    public init() {}

    public struct Listen: Sendable, Equatable {
        /// `listen.address`: numeric IPv4 or IPv6 address to bind. Default "127.0.0.1".
        public var address = "127.0.0.1"
        /// `listen.port`: TCP port; 0 picks a free one. Default 8443.
        public var port = 8443
        /// `listen.tls`: certificate and key. Required unless `address` is a loopback address (then
        /// absent means plain HTTP, with a warning). Default none.
        public var tls: TLSFiles?

        public init() {}
    }

    public struct TLSFiles: Sendable, Equatable {
        /// `listen.tls.certificate`: PEM certificate chain, leaf first. Required.
        public var certificate: String
        /// `listen.tls.privateKey`: PEM private key. Required.
        public var privateKey: String

        public init(certificate: String, privateKey: String) {
            self.certificate = certificate
            self.privateKey = privateKey
        }
    }

    public struct Admin: Sendable, Equatable {
        /// `admin.listen`: "address:port" of the admin listener, IPv6 in brackets ("[::1]:9443").
        /// Default "127.0.0.1:9443".
        public var address = "127.0.0.1"
        public var port = 9443

        public init() {}
    }

    public struct Upstream: Sendable, Equatable {
        /// `upstreams[].name`: how accounts refer to it; letters, digits, ".", "_", "-". Required.
        public var name: String
        /// `upstreams[].url`: `http(s)://host[:port][/prefix]`; the prefix is put in front of every
        /// forwarded path. Required.
        public var url: UpstreamURL
        /// `upstreams[].caFile`: PEM file of the CAs trusted for this upstream's certificate.
        /// Default none: the system trust store.
        public var caFile: String?
        /// `upstreams[].connectTimeout`: Default "5s".
        public var connectTimeout: Duration = .seconds(5)
        /// `upstreams[].responseTimeout`: from request sent to response head, and between body
        /// reads. Default "60s".
        public var responseTimeout: Duration = .seconds(60)
        /// `upstreams[].maxConnections`: keep-alive connections per event loop. Default 64.
        public var maxConnections = 64
        /// `upstreams[].probeInterval`: once a request or login could not connect, the upstream
        /// counts as unreachable (`/readyz` answers 503) and is probed this often with
        /// `GET /tas/api/version` until it answers. A reachable upstream is never probed.
        /// Default "5s".
        public var probeInterval: Duration = .seconds(5)

        public init(name: String, url: UpstreamURL) {
            self.name = name
            self.url = url
        }
    }

    public struct Account: Sendable, Equatable {
        /// `accounts[].name`: how client credentials refer to it. Required.
        public var name: String
        /// `accounts[].upstream`: name of an entry of `upstreams`. Required.
        public var upstream: String
        /// `accounts[].kind`: "operator" or "person" (which login endpoint). Required.
        public var kind: AccountKind
        /// `accounts[].login`: the TOPdesk login name. Required.
        public var login: String
        /// `accounts[].password`: `{env: "NAME"}` (an environment variable) or `{file: "PATH"}`
        /// (a file's contents, trailing newlines dropped). A literal string works but draws a
        /// warning. Required.
        public var password: Secret

        public init(name: String, upstream: String, kind: AccountKind, login: String, password: Secret) {
            self.name = name
            self.upstream = upstream
            self.kind = kind
            self.login = login
            self.password = password
        }

        public var key: AccountKey { AccountKey(upstream: upstream, kind: kind, login: login) }
    }

    public struct Tokens: Sendable, Equatable {
        /// `tokens.lifetime`: how long a legacy token lives; the upstream never says. From "1s"
        /// (under a minute draws a warning) to "7d". Default "8h".
        public var lifetime: Duration = .seconds(8 * 3600)
        /// `tokens.renewBefore`: background renewal starts this long (up to 20% more) before
        /// expiry; at most 80% of the lifetime. Default "5m", or a quarter of a lifetime under 20m.
        public var renewBefore: Duration = .seconds(300)
        /// `tokens.poolSize`: tokens held per account, requests spread over them. Default 1.
        public var poolSize = 1

        public init() {}
    }

    public struct Credentials: Sendable, Equatable {
        /// `credentials.store`: SQLite file of client credentials, created when missing.
        /// Default "credentials.sqlite" beside the configuration file.
        public var store = "credentials.sqlite"

        public init() {}
    }

    public struct Limits: Sendable, Equatable {
        /// `limits.headBytes`: largest request head (request line and headers). Default "32KiB".
        public var headBytes = 32 * 1024
        /// `limits.bodyBytes`: largest request body; larger ones get 413. Default "16MiB".
        public var bodyBytes = 16 * 1024 * 1024
        /// `limits.replayBuffer`: a request whose body fits is replayed once after a rejected
        /// token; a larger one gets a clear error instead. Default "1MiB".
        public var replayBuffer = 1024 * 1024

        public init() {}
    }

    public struct Log: Sendable, Equatable {
        /// `log.level`: trace, debug, info, notice, warning, error or critical. Default "info".
        public var level = LogLevel.info

        public init() {}
    }

    public enum LogLevel: String, Sendable, Equatable, CaseIterable, Comparable {
        case trace, debug, info, notice, warning, error, critical

        public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    public struct Shutdown: Sendable, Equatable {
        /// `shutdown.grace`: how long in-flight requests may finish after SIGTERM before
        /// connections are closed; tokens are then logged out. Default "30s".
        public var grace: Duration = .seconds(30)

        public init() {}
    }
}

extension GatewayConfiguration {
    public func upstream(named name: String) -> Upstream? {
        upstreams.first { $0.name == name }
    }

    public func account(named name: String) -> Account? {
        accounts.first { $0.name == name }
    }

    /// The token pool's policy: the configured lifetime, renewal and pool size, defaults otherwise.
    public var tokenPolicy: TokenPolicy {
        var policy = TokenPolicy()
        policy.lifetime = tokens.lifetime
        policy.renewBefore = tokens.renewBefore
        policy.poolSize = tokens.poolSize
        // The default margin (10 s) would make a short lifetime (a test install's few seconds)
        // unusable: keep it to a tenth of the lifetime at most.
        policy.expirySafetyMargin = min(policy.expirySafetyMargin, tokens.lifetime / 10)
        return policy
    }

    /// The accounts as the token pool takes them, passwords resolved.
    public var tokenAccounts: [TokenAccountConfiguration] {
        accounts.map { TokenAccountConfiguration(key: $0.key, password: $0.password.value) }
    }
}

/// A secret read from the configuration. Printing it shows where it came from, never its value.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomReflectable {
    public enum Source: Sendable, Equatable, CustomStringConvertible {
        case environment(String)
        case file(String)
        case literal

        public var description: String {
            switch self {
            case .environment(let name): return "environment variable \(name)"
            case .file(let path): return "file \(path)"
            case .literal: return "literal in the configuration"
            }
        }
    }

    /// The secret itself. Never log it.
    public let value: String
    public let source: Source

    public init(value: String, source: Source) {
        self.value = value
        self.source = source
    }

    public var description: String { "<secret from \(source)>" }
    public var customMirror: Mirror { Mirror(self, children: ["source": source]) }
}
