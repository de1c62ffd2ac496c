import Foundation

/// A usage mistake: the message names the flag or argument at fault.
struct CommandUsageError: Error {
    let message: String
    let subcommand: String?
}

/// One run of `tokenbridge credentials`, with its output channels.
struct CredentialsCommandSession {
    let storePath: String
    let knownAccountNames: Set<String>?
    let now: Date
    let output: (String) -> Void
    let errorOutput: (String) -> Void

    func run(_ arguments: [String]) -> Int32 {
        guard let subcommand = arguments.first else {
            errorOutput(CredentialsCommandLine.overview)
            return CredentialsCommandLine.exitUsage
        }
        let rest = Array(arguments.dropFirst())
        do throws(CommandUsageError) {
            switch subcommand {
            case "create":
                return try create(rest)
            case "list":
                return try list(rest)
            case "revoke":
                return try revoke(rest)
            case "-h", "--help", "help":
                output(CredentialsCommandLine.overview)
                return CredentialsCommandLine.exitSuccess
            default:
                throw CommandUsageError(
                    message: "unknown subcommand '\(subcommand)'; expected create, list or revoke", subcommand: nil)
            }
        } catch {
            let hint = "tokenbridge credentials " + (error.subcommand.map { $0 + " " } ?? "") + "--help"
            errorOutput("error: \(error.message)\nSee '\(hint)'.")
            return CredentialsCommandLine.exitUsage
        }
    }

    // MARK: create

    private func create(_ arguments: [String]) throws(CommandUsageError) -> Int32 {
        let options = try CommandOptions.parse(
            arguments, subcommand: "create",
            valueOptions: ["--client", "--account", "--app-password", "--expires"],
            repeatableOptions: ["--scope"], flags: ["--api-key", "--json"])
        if options.wantsHelp {
            output(CredentialsCommandLine.createHelp)
            return CredentialsCommandLine.exitSuccess
        }
        try options.refusePositionals()
        let client = try options.required("--client")
        let account = try options.required("--account")
        if let knownAccountNames, !knownAccountNames.contains(account) {
            let known = knownAccountNames.sorted().joined(separator: ", ")
            throw options.error("--account '\(account)' is not an account of the configuration (known: \(known))")
        }
        let kind: CredentialKind
        switch (options.has("--api-key"), options.value("--app-password")) {
        case (true, nil):
            kind = .apiKey
        case (false, let login?):
            kind = .appPassword(login: login)
        case (true, _?):
            throw options.error("--api-key and --app-password exclude each other; choose one")
        case (false, nil):
            throw options.error("choose the kind of credential: --api-key or --app-password LOGIN")
        }
        var scopes: [Scope] = []
        for text in options.values("--scope") {
            do {
                scopes.append(try Scope(parsing: text))
            } catch {
                throw options.error("invalid --scope '\(text)': \(error.reason)")
            }
        }
        var expiresAt: Date?
        if let text = options.value("--expires") {
            guard let date = CredentialsCommandLine.parseExpiry(text) else {
                throw options.error("invalid --expires '\(text)': expected YYYY-MM-DD or an ISO 8601 date-time "
                                        + "with a time zone, e.g. 2026-03-31T17:00:00Z")
            }
            guard date > now else {
                throw options.error("--expires '\(text)' is not in the future")
            }
            expiresAt = date
        }
        let request = CredentialRequest(clientName: client, accountName: account, kind: kind, scopes: scopes,
                                        expiresAt: expiresAt)
        // Checked before the store is opened, so a typo never creates a store file.
        do {
            try CredentialStore.validate(request)
        } catch {
            let flag = ["client": "--client", "account": "--account", "login": "--app-password"][error.operation]
            throw options.error("invalid \(flag ?? error.operation): \(error.detail)")
        }
        guard let store = openStore() else {
            return CredentialsCommandLine.exitFailure
        }
        let issued: IssuedCredential
        do {
            issued = try store.create(request, now: now)
        } catch {
            errorOutput("error: cannot create the credential: \(error)")
            return CredentialsCommandLine.exitFailure
        }
        if options.has("--json") {
            output("{\"id\": \(jsonString(issued.credential.id)), \"secret\": \(jsonString(issued.secret))}")
        } else {
            output(describeCreated(issued))
        }
        return CredentialsCommandLine.exitSuccess
    }

    private func describeCreated(_ issued: IssuedCredential) -> String {
        let credential = issued.credential
        let scopes = credential.scopes.isEmpty ? "everything (no --scope given)"
            : credential.scopes.map(\.description).joined(separator: ", ")
        let expires = credential.expiresAt.map(CredentialsCommandLine.format) ?? "never"
        var lines = [
            "Created \(credential.kind == .apiKey ? "API key" : "application password") \(credential.id) "
                + "for client \"\(credential.clientName)\", acting as account \"\(credential.accountName)\".",
            "  scopes:  \(scopes)",
            "  expires: \(expires)",
            "",
        ]
        switch credential.kind {
        case .apiKey:
            lines += [
                "API key:",
                "",
                "  \(issued.secret)",
                "",
                "Send it as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'.",
            ]
        case .appPassword(let login):
            lines += [
                "HTTP Basic credentials:",
                "",
                "  login:    \(login)",
                "  password: \(issued.secret)",
                "",
            ]
        }
        lines.append("The secret is shown only once: store it now. "
                         + "It cannot be shown again, only revoked and replaced.")
        return lines.joined(separator: "\n")
    }

    // MARK: list

    private func list(_ arguments: [String]) throws(CommandUsageError) -> Int32 {
        let options = try CommandOptions.parse(arguments, subcommand: "list", flags: ["--json"])
        if options.wantsHelp {
            output(CredentialsCommandLine.listHelp)
            return CredentialsCommandLine.exitSuccess
        }
        try options.refusePositionals()
        guard let store = openStore() else {
            return CredentialsCommandLine.exitFailure
        }
        let credentials: [Credential]
        do {
            credentials = try store.list()
        } catch {
            errorOutput("error: cannot list credentials: \(error)")
            return CredentialsCommandLine.exitFailure
        }
        if options.has("--json") {
            output(CredentialListing.json(credentials, now: now))
        } else if credentials.isEmpty {
            output("No credentials in \(storePath).")
        } else {
            output(CredentialListing.table(credentials, now: now))
        }
        return CredentialsCommandLine.exitSuccess
    }

    // MARK: revoke

    private func revoke(_ arguments: [String]) throws(CommandUsageError) -> Int32 {
        let options = try CommandOptions.parse(arguments, subcommand: "revoke")
        if options.wantsHelp {
            output(CredentialsCommandLine.revokeHelp)
            return CredentialsCommandLine.exitSuccess
        }
        guard let id = options.positionals.first else {
            throw options.error("missing the ID of the credential to revoke")
        }
        guard options.positionals.count == 1 else {
            throw options.error("unexpected argument '\(options.positionals[1])'; revoke takes one ID")
        }
        guard let store = openStore() else {
            return CredentialsCommandLine.exitFailure
        }
        do {
            switch try store.revoke(id: id, now: now) {
            case .revoked(let credential):
                output("Revoked credential \(credential.id) (client \"\(credential.clientName)\", account "
                           + "\"\(credential.accountName)\"). Gateways stop accepting it within about a second.")
                return CredentialsCommandLine.exitSuccess
            case .alreadyRevoked(let credential):
                let when = credential.revokedAt.map(CredentialsCommandLine.format) ?? "an unknown time"
                output("Credential \(credential.id) was already revoked at \(when); nothing changed.")
                return CredentialsCommandLine.exitSuccess
            case .notFound:
                errorOutput("error: no credential with id '\(id)' in \(storePath)")
                return CredentialsCommandLine.exitFailure
            }
        } catch {
            errorOutput("error: cannot revoke credential '\(id)': \(error)")
            return CredentialsCommandLine.exitFailure
        }
    }

    // MARK: Helpers

    private func openStore() -> CredentialStore? {
        do {
            return try CredentialStore(path: storePath, now: now)
        } catch {
            errorOutput("error: cannot open the credential store \(storePath): \(error)")
            return nil
        }
    }
}

/// A JSON string literal for `text` (quotes, backslashes and control characters escaped).
func jsonString(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"":
            result += "\\\""
        case "\\":
            result += "\\\\"
        case "\n":
            result += "\\n"
        case "\r":
            result += "\\r"
        case "\t":
            result += "\\t"
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16)
            result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default:
            result.unicodeScalars.append(scalar)
        }
    }
    return result + "\""
}
