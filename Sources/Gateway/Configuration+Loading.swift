import Foundation
import Network
import TokenPool
#if canImport(Glibc)
import Glibc
#endif

extension GatewayConfiguration {
    /// Reads, checks and resolves the configuration file at `path`. Relative paths in it are taken
    /// relative to the file's directory; `{env: NAME}` secrets come from `environment`. Throws every
    /// error found (each naming its key path), never just the first; warnings ride along in
    /// `warnings` of the result (or of the thrown errors).
    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(ConfigurationErrors) -> GatewayConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationErrors(errors: [ConfigurationIssue(path: "", message: "cannot read \(path)")])
        }
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        let directory = (absolute as NSString).deletingLastPathComponent
        return try parse(data, baseDirectory: directory, environment: environment)
    }

    /// Like `load`, from the text itself. `baseDirectory` anchors relative paths.
    public static func parse(_ data: Data, baseDirectory: String, environment: [String: String])
        throws(ConfigurationErrors) -> GatewayConfiguration {
        let root: ConfigurationValue
        do {
            root = try ConfigurationValue.parseJSON5(data)
        } catch {
            throw ConfigurationErrors(errors: [error])
        }
        let reader = ConfigurationReader()
        let loader = ConfigurationLoader(reader: reader, baseDirectory: baseDirectory, environment: environment)
        var configuration = loader.read(root)
        guard reader.errors.isEmpty else { throw ConfigurationErrors(errors: reader.errors, warnings: reader.warnings) }
        configuration.warnings = reader.warnings
        return configuration
    }

    /// For `tokenbridge check-config`: every error as "key.path: message" (empty when the file is
    /// valid: exit 0), and the warnings. Resolved secrets never appear in either.
    public static func check(path: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        -> (errors: [String], warnings: [String]) {
        do {
            let configuration = try load(path: path, environment: environment)
            let errors = configuration.tlsMaterialErrors().map(\.description)
            return (errors, configuration.warnings.map(\.description))
        } catch {
            return (error.errors.map(\.description), error.warnings.map(\.description))
        }
    }
}

extension GatewayConfiguration {
    /// Loads the certificates and keys as `serve` will (a readable file can still hold a key that
    /// does not match its certificate, or no PEM at all): one issue per pair or CA file that fails.
    func tlsMaterialErrors() -> [ConfigurationIssue] {
        var issues: [ConfigurationIssue] = []
        if let tls = listen.tls {
            do {
                _ = try TLSServerContext(certificateChainFile: tls.certificate, privateKeyFile: tls.privateKey)
            } catch {
                issues.append(ConfigurationIssue(path: "listen.tls",
                                                 message: "cannot load the certificate or key: \(error)"))
            }
        }
        for (index, upstream) in upstreams.enumerated() where upstream.url.usesTLS {
            guard let caFile = upstream.caFile else { continue }
            do {
                _ = try TLSClientContext(caFile: caFile)
            } catch {
                issues.append(ConfigurationIssue(path: "upstreams[\(index)].caFile",
                                                 message: "cannot load the CA certificates: \(error)"))
            }
        }
        return issues
    }
}

/// Builds a `GatewayConfiguration` from the value tree, reporting through the reader.
struct ConfigurationLoader {
    let reader: ConfigurationReader
    let baseDirectory: String
    let environment: [String: String]

    static let topLevelKeys = ["listen", "admin", "upstreams", "accounts", "tokens", "credentials", "limits",
                               "log", "shutdown"]

    func read(_ root: ConfigurationValue) -> GatewayConfiguration {
        var configuration = GatewayConfiguration()
        guard case .object = root else {
            reader.error("", "the configuration must be an object, found \(root.kindName)")
            return configuration
        }
        let top = reader.object(root, at: "", keys: Self.topLevelKeys)
        configuration.listen = readListen(top?["listen"])
        configuration.admin = readAdmin(top?["admin"])
        configuration.upstreams = readUpstreams(top)
        configuration.accounts = readAccounts(top, upstreams: configuration.upstreams)
        configuration.tokens = readTokens(top?["tokens"])
        configuration.credentials = readCredentials(top?["credentials"])
        configuration.limits = readLimits(top?["limits"])
        configuration.log = readLog(top?["log"])
        let shutdown = reader.object(top?["shutdown"], at: "shutdown", keys: ["grace"])
        configuration.shutdown.grace = reader.duration(shutdown, "grace", at: "shutdown", default: .seconds(30),
                                                       range: .zero ... .seconds(3600))
        return configuration
    }

    // MARK: Sections

    private func readListen(_ value: ConfigurationValue?) -> GatewayConfiguration.Listen {
        var listen = GatewayConfiguration.Listen()
        let members = reader.object(value, at: "listen", keys: ["address", "port", "tls"])
        if let address = reader.string(members, "address", at: "listen") {
            if Self.isNumericAddress(address) {
                listen.address = address
            } else {
                reader.error("listen.address", "\"\(address)\" is not a numeric IPv4 or IPv6 address")
            }
        }
        listen.port = reader.integer(members, "port", at: "listen", default: 8443, range: 0...65535)
        if let tls = reader.object(members?["tls"], at: "listen.tls", keys: ["certificate", "privateKey"]) {
            let certificate = reader.requiredString(tls, "certificate", at: "listen.tls")
                .flatMap { readableFile($0, at: "listen.tls.certificate") }
            let privateKey = reader.requiredString(tls, "privateKey", at: "listen.tls")
                .flatMap { readableFile($0, at: "listen.tls.privateKey") }
            if let certificate, let privateKey {
                listen.tls = GatewayConfiguration.TLSFiles(certificate: certificate, privateKey: privateKey)
            }
        } else if members?["tls"] == nil || members?["tls"] == .null {
            if Self.isLoopback(listen.address) {
                reader.warning("listen.tls", "absent: clients connect over plain HTTP (loopback only)")
            } else {
                reader.error("listen.tls", "required unless listen.address is a loopback address")
            }
        }
        return listen
    }

    private func readAdmin(_ value: ConfigurationValue?) -> GatewayConfiguration.Admin {
        var admin = GatewayConfiguration.Admin()
        let members = reader.object(value, at: "admin", keys: ["listen"])
        guard let text = reader.string(members, "listen", at: "admin") else { return admin }
        guard let (address, port) = Self.splitHostPort(text), Self.isNumericAddress(address) else {
            reader.error("admin.listen", "\"\(text)\" is not \"address:port\" with a numeric address")
            return admin
        }
        admin.address = address
        admin.port = port
        if !Self.isLoopback(address) {
            reader.warning("admin.listen",
                           "\(text) is not a loopback address: /status and /metrics are reachable from outside")
        }
        return admin
    }

    private func readUpstreams(_ top: [String: ConfigurationValue]?) -> [GatewayConfiguration.Upstream] {
        let elements = reader.list(top, "upstreams", at: "")
        if elements.isEmpty, top?["upstreams"] == nil || top?["upstreams"] == .array([]) {
            reader.error("upstreams", "at least one upstream is required")
        }
        var upstreams: [GatewayConfiguration.Upstream] = []
        var firstIndexOfName: [String: Int] = [:]
        let keys = ["name", "url", "caFile", "connectTimeout", "responseTimeout", "maxConnections", "probeInterval"]
        for (index, element) in elements.enumerated() {
            let path = "upstreams[\(index)]"
            guard let members = reader.object(element, at: path, keys: keys) else {
                if element == .null { reader.error(path, "expected an object, found null") }
                continue
            }
            let name = reader.requiredString(members, "name", at: path)
            if let name {
                if !Self.isPlainName(name) {
                    reader.error("\(path).name", "use only letters, digits, \".\", \"_\" and \"-\"")
                } else if let earlier = firstIndexOfName[name] {
                    reader.error("\(path).name", "duplicate name \"\(name)\" (also upstreams[\(earlier)])")
                } else {
                    firstIndexOfName[name] = index
                }
            }
            var url: UpstreamURL?
            if let text = reader.requiredString(members, "url", at: path) {
                switch UpstreamURL.parse(text) {
                case .success(let parsed): url = parsed
                case .failure(let problem): reader.error("\(path).url", "not a valid URL: \(problem)")
                }
            }
            let caFile = reader.string(members, "caFile", at: path).flatMap { readableFile($0, at: "\(path).caFile") }
            if caFile != nil, let url, !url.usesTLS {
                reader.warning("\(path).caFile", "has no effect on an http:// upstream")
            }
            let connectTimeout = reader.duration(members, "connectTimeout", at: path, default: .seconds(5),
                                                 range: .milliseconds(1) ... .seconds(600))
            let responseTimeout = reader.duration(members, "responseTimeout", at: path, default: .seconds(60),
                                                  range: .milliseconds(1) ... .seconds(3600))
            let maxConnections = reader.integer(members, "maxConnections", at: path, default: 64, range: 1...10_000)
            let probeInterval = reader.duration(members, "probeInterval", at: path, default: .seconds(5),
                                                range: .milliseconds(100) ... .seconds(3600))
            guard let name, let url else { continue }
            var upstream = GatewayConfiguration.Upstream(name: name, url: url)
            upstream.caFile = caFile
            upstream.connectTimeout = connectTimeout
            upstream.responseTimeout = responseTimeout
            upstream.maxConnections = maxConnections
            upstream.probeInterval = probeInterval
            upstreams.append(upstream)
        }
        return upstreams
    }

    private func readAccounts(_ top: [String: ConfigurationValue]?,
                              upstreams: [GatewayConfiguration.Upstream]) -> [GatewayConfiguration.Account] {
        let elements = reader.list(top, "accounts", at: "")
        if elements.isEmpty, top?["accounts"] == nil || top?["accounts"] == .array([]) {
            reader.error("accounts", "at least one account is required")
        }
        let upstreamNames = Set(upstreams.map(\.name))
        let declaredUpstreams = Set(reader.list(top, "upstreams", at: "").compactMap { element -> String? in
            if case .object(let members) = element, case .string(let name)? = members["name"] { return name }
            return nil
        })
        var accounts: [GatewayConfiguration.Account] = []
        var firstIndexOfName: [String: Int] = [:]
        var firstIndexOfKey: [AccountKey: Int] = [:]
        for (index, element) in elements.enumerated() {
            let path = "accounts[\(index)]"
            guard let members = reader.object(element, at: path,
                                              keys: ["name", "upstream", "kind", "login", "password"]) else {
                if element == .null { reader.error(path, "expected an object, found null") }
                continue
            }
            let name = reader.requiredString(members, "name", at: path)
            if let name {
                if let earlier = firstIndexOfName[name] {
                    reader.error("\(path).name", "duplicate name \"\(name)\" (also accounts[\(earlier)])")
                } else {
                    firstIndexOfName[name] = index
                }
            }
            var upstream = reader.requiredString(members, "upstream", at: path)
            if let name = upstream, !upstreamNames.contains(name) {
                // An upstream that is declared but broken has its own error already.
                if !declaredUpstreams.contains(name) {
                    reader.error("\(path).upstream", "no upstream named \"\(name)\"")
                }
                upstream = nil
            }
            var kind: AccountKind?
            if let text = reader.requiredString(members, "kind", at: path) {
                kind = AccountKind(rawValue: text)
                if kind == nil { reader.error("\(path).kind", "must be \"operator\" or \"person\", not \"\(text)\"") }
            }
            let login = reader.requiredString(members, "login", at: path)
            let hasControl = login?.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F } ?? false
            if let login, login.contains(":") || hasControl {
                reader.error("\(path).login",
                             "must not contain \":\" or control characters (HTTP Basic cannot carry them)")
            }
            let password = readSecret(members["password"], at: "\(path).password")
            guard let name, let upstream, let kind, let login, let password else { continue }
            let account = GatewayConfiguration.Account(name: name, upstream: upstream, kind: kind, login: login,
                                                       password: password)
            if let earlier = firstIndexOfKey[account.key] {
                reader.error(path, "same upstream, kind and login as accounts[\(earlier)]")
                continue
            }
            firstIndexOfKey[account.key] = index
            accounts.append(account)
        }
        return accounts
    }

    private func readTokens(_ value: ConfigurationValue?) -> GatewayConfiguration.Tokens {
        var tokens = GatewayConfiguration.Tokens()
        let members = reader.object(value, at: "tokens", keys: ["lifetime", "renewBefore", "poolSize"])
        // Seconds are allowed: a test install may be set to end tokens after a few seconds, and the
        // pool handles that (`tokenPolicy` keeps the expiry margin to a tenth of the lifetime).
        tokens.lifetime = reader.duration(members, "lifetime", at: "tokens", default: .seconds(8 * 3600),
                                          range: .seconds(1) ... .seconds(7 * 86_400))
        // Unset, it is 5 minutes, or a quarter of a lifetime shorter than 20 minutes, so that a short
        // lifetime alone is a valid configuration.
        tokens.renewBefore = reader.duration(members, "renewBefore", at: "tokens",
                                             default: min(.seconds(300), tokens.lifetime / 4),
                                             range: .milliseconds(100) ... .seconds(7 * 86_400))
        if tokens.lifetime < .seconds(60) {
            reader.warning("tokens.lifetime", "under a minute: the gateway logs in again every few seconds "
                           + "(meant for test installs with short-lived tokens)")
        }
        tokens.poolSize = reader.integer(members, "poolSize", at: "tokens", default: 1, range: 1...64)
        // Renewal may start up to 20% earlier than renewBefore; it must still fall inside the lifetime.
        if tokens.renewBefore * 1.2 >= tokens.lifetime {
            reader.error("tokens.renewBefore", "must be well below tokens.lifetime (at most 80% of it)")
        }
        return tokens
    }

    private func readCredentials(_ value: ConfigurationValue?) -> GatewayConfiguration.Credentials {
        var credentials = GatewayConfiguration.Credentials()
        let members = reader.object(value, at: "credentials", keys: ["store"])
        let store = absolutePath(reader.string(members, "store", at: "credentials") ?? credentials.store)
        let directory = (store as NSString).deletingLastPathComponent
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) || !isDirectory.boolValue {
            reader.error("credentials.store", "directory \(directory) does not exist")
        }
        credentials.store = store
        return credentials
    }

    private func readLimits(_ value: ConfigurationValue?) -> GatewayConfiguration.Limits {
        var limits = GatewayConfiguration.Limits()
        let members = reader.object(value, at: "limits", keys: ["headBytes", "bodyBytes", "replayBuffer"])
        limits.headBytes = reader.byteSize(members, "headBytes", at: "limits", default: limits.headBytes,
                                           range: 1024...(1024 * 1024))
        limits.bodyBytes = reader.byteSize(members, "bodyBytes", at: "limits", default: limits.bodyBytes,
                                           range: 0...(1024 * 1024 * 1024))
        limits.replayBuffer = reader.byteSize(members, "replayBuffer", at: "limits", default: limits.replayBuffer,
                                              range: 0...(1024 * 1024 * 1024))
        if limits.replayBuffer > limits.bodyBytes {
            reader.warning("limits.replayBuffer", "larger than limits.bodyBytes; bodies are never that large")
        }
        return limits
    }

    private func readLog(_ value: ConfigurationValue?) -> GatewayConfiguration.Log {
        var log = GatewayConfiguration.Log()
        let members = reader.object(value, at: "log", keys: ["level"])
        if let text = reader.string(members, "level", at: "log") {
            if let level = GatewayConfiguration.LogLevel(rawValue: text) {
                log.level = level
            } else {
                let names = GatewayConfiguration.LogLevel.allCases.map(\.rawValue).joined(separator: ", ")
                reader.error("log.level", "\"\(text)\" is not one of \(names)")
            }
        }
        return log
    }

    // MARK: Secrets and files

    /// `{env: NAME}`, `{file: PATH}` or (with a warning) a literal string. Messages name the
    /// variable or file, never the value.
    private func readSecret(_ value: ConfigurationValue?, at path: String) -> Secret? {
        switch value {
        case nil, .null?:
            reader.error(path, "required: {env: \"NAME\"} or {file: \"PATH\"}")
            return nil
        case .string(let literal)?:
            guard !literal.isEmpty else {
                reader.error(path, "must not be empty")
                return nil
            }
            reader.warning(path,
                           "a literal secret in the configuration file; prefer {env: \"NAME\"} or {file: \"PATH\"}")
            return Secret(value: literal, source: .literal)
        case .object?:
            guard let members = reader.object(value, at: path, keys: ["env", "file"]) else { return nil }
            let name = reader.string(members, "env", at: path)
            let file = reader.string(members, "file", at: path)
            switch (name, file) {
            case (let name?, nil):
                guard let secret = environment[name], !secret.isEmpty else {
                    reader.error(path, "environment variable \(name) is not set or empty")
                    return nil
                }
                return Secret(value: secret, source: .environment(name))
            case (nil, let file?):
                let resolved = absolutePath(file)
                guard let data = FileManager.default.contents(atPath: resolved), data.count <= 64 * 1024 else {
                    reader.error(path, "cannot read file \(resolved)")
                    return nil
                }
                var secret = String(decoding: data, as: UTF8.self)
                while secret.hasSuffix("\n") || secret.hasSuffix("\r") { secret.removeLast() }
                guard !secret.isEmpty else {
                    reader.error(path, "file \(resolved) is empty")
                    return nil
                }
                return Secret(value: secret, source: .file(resolved))
            default:
                reader.error(path, "give exactly one of env or file")
                return nil
            }
        case let other?:
            reader.error(path, "expected {env: \"NAME\"} or {file: \"PATH\"}, found \(other.kindName)")
            return nil
        }
    }

    private func absolutePath(_ path: String) -> String {
        path.hasPrefix("/") ? path : (baseDirectory as NSString).appendingPathComponent(path)
    }

    private func readableFile(_ path: String, at keyPath: String) -> String? {
        let resolved = absolutePath(path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory), !isDirectory.boolValue,
              FileManager.default.isReadableFile(atPath: resolved) else {
            reader.error(keyPath, "cannot read file \(resolved)")
            return nil
        }
        return resolved
    }

    // MARK: Addresses

    static func isNumericAddress(_ text: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }

    static func isLoopback(_ address: String) -> Bool {
        address == "::1" || address.hasPrefix("127.")
    }

    /// "1.2.3.4:9443" or "[::1]:9443".
    static func splitHostPort(_ text: String) -> (String, Int)? {
        let host: Substring, portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                return nil
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") { return nil }
        }
        guard !portText.isEmpty, portText.allSatisfy(\.isNumber), let port = Int(portText), (0...65535).contains(port)
        else { return nil }
        return (String(host), port)
    }

    static func isPlainName(_ name: String) -> Bool {
        name.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "._-".unicodeScalars.contains(scalar))
        }
    }
}
