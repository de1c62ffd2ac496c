import Foundation

/// The `tokenbridge credentials` command: `create`, `list` and `revoke`.
///
/// Lives in this module (not in the executable) so its output can be tested; the executable's
/// `runCredentialsCommand` only connects it to standard output and standard error.
///
/// Exit status: 0 on success, 1 when the store fails or refuses (e.g. unknown id, login in use),
/// 2 for a usage error (unknown flag, missing or malformed value).
public enum CredentialsCommandLine {
    public static let exitSuccess: Int32 = 0
    public static let exitFailure: Int32 = 1
    public static let exitUsage: Int32 = 2

    /// Runs one subcommand. `arguments` start after `credentials`, e.g. `["revoke", "abc"]`.
    ///
    /// - Parameters:
    ///   - knownAccountNames: account names of the gateway configuration; when given, `create`
    ///     refuses any other `--account`. Nil skips that check.
    ///   - now: creation time and the reference for refusing an `--expires` in the past.
    ///   - output: receives results, one block of lines per call, without a trailing newline.
    ///   - errorOutput: receives error messages, likewise.
    public static func run(
        _ arguments: [String], storePath: String, knownAccountNames: Set<String>? = nil, now: Date = Date(),
        output: (String) -> Void, errorOutput: (String) -> Void
    ) -> Int32 {
        withoutActuallyEscaping(output) { output in
            withoutActuallyEscaping(errorOutput) { errorOutput in
                let session = CredentialsCommandSession(
                    storePath: storePath, knownAccountNames: knownAccountNames, now: now,
                    output: output, errorOutput: errorOutput)
                return session.run(arguments)
            }
        }
    }

    /// Parses an `--expires` value: `YYYY-MM-DD` (midnight UTC at the start of that day, the first
    /// instant the credential no longer works) or an ISO 8601 date-time with a time zone
    /// (`2026-03-31T17:00:00Z`, `2026-03-31T19:00:00+02:00`, fractional seconds allowed).
    public static func parseExpiry(_ text: String) -> Date? {
        if let date = parseCalendarDate(text) {
            return date
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) {
            return date
        }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    private static func parseCalendarDate(_ text: String) -> Date? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              parts.allSatisfy({ $0.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } }),
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]) else {
            return nil
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let components = DateComponents(year: year, month: month, day: day)
        guard let date = calendar.date(from: components) else {
            return nil
        }
        // Calendar rolls 2026-02-30 over to March; such a day does not exist, so refuse it.
        let back = calendar.dateComponents([.year, .month, .day], from: date)
        guard back.year == year, back.month == month, back.day == day else {
            return nil
        }
        return date
    }

    /// Formats a time for people and for `--json`: ISO 8601 in UTC, whole seconds.
    static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    static let overview = """
        Usage: tokenbridge credentials <subcommand> [options]

        Manage the client credentials the gateway accepts. Secrets are shown once, at creation,
        and stored only as hashes.

        Subcommands:
          create   Issue an API key or an application password
          list     Show every credential (never a secret)
          revoke   Revoke a credential; gateways stop accepting it within about a second

        Run 'tokenbridge credentials <subcommand> --help' for its options.
        """

    static let createHelp = """
        Usage: tokenbridge credentials create --client NAME --account ACCOUNT
                                              (--api-key | --app-password LOGIN)
                                              [--scope METHOD:PATH-PREFIX]... [--expires DATE] [--json]

        Issue a credential and print its secret, once.

        Options:
          --client NAME            Who holds the credential (shown in lists and access logs)
          --account ACCOUNT        The TOPdesk account (from the configuration) it acts as
          --api-key                Issue an API key (sent as 'Authorization: Bearer' or 'X-API-Key')
          --app-password LOGIN     Issue an application password for HTTP Basic login LOGIN;
                                   one active credential per login
          --scope METHOD:PREFIX    Allow METHOD (or * for any) on paths under PREFIX, e.g.
                                   GET:/tas/api/ or *:/tas/api/incidents. Repeatable. Prefixes
                                   match whole segments: /tas/api/inc does not cover
                                   /tas/api/incidents. Without --scope, everything is allowed.
          --expires DATE           YYYY-MM-DD (expires at 00:00 UTC that day) or an ISO 8601
                                   date-time with time zone, e.g. 2026-03-31T17:00:00Z
          --json                   Print exactly {"id": "...", "secret": "..."}
          -h, --help               Show this help
        """

    static let listHelp = """
        Usage: tokenbridge credentials list [--json]

        Show every credential, revoked and expired ones included. Secrets are never shown.

        Options:
          --json       Print a JSON array, one object per credential
          -h, --help   Show this help
        """

    static let revokeHelp = """
        Usage: tokenbridge credentials revoke ID

        Revoke credential ID for good. Running gateways stop accepting it within about a second.
        Revoking a revoked credential changes nothing and succeeds.

        Options:
          -h, --help   Show this help
        """
}
