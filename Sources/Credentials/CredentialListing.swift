import Foundation

/// `credentials list` output: a table for people, a JSON array for programs. Never a secret.
enum CredentialListing {
    static func table(_ credentials: [Credential], now: Date) -> String {
        let header = ["ID", "KIND", "LOGIN", "CLIENT", "ACCOUNT", "STATUS", "CREATED", "EXPIRES", "LAST USED", "SCOPES"]
        let rows = credentials.map { credential in
            [
                credential.id,
                credential.kind.name,
                credential.login ?? "-",
                credential.clientName,
                credential.accountName,
                credential.status(at: now).rawValue,
                CredentialsCommandLine.format(credential.createdAt),
                credential.expiresAt.map(CredentialsCommandLine.format) ?? "never",
                credential.lastUsedAt.map(CredentialsCommandLine.format) ?? "never",
                credential.scopes.isEmpty ? "*" : credential.scopes.map(\.description).joined(separator: " "),
            ]
        }
        let widths = header.indices.map { column in
            ([header] + rows).map { $0[column].count }.max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            zip(cells, widths).enumerated().map { index, pair in
                let (cell, width) = pair
                // The last column is not padded, so lines carry no trailing blanks.
                return index == cells.count - 1 ? cell : cell + String(repeating: " ", count: width - cell.count)
            }.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }

    static func json(_ credentials: [Credential], now: Date) -> String {
        let objects = credentials.map { credential -> String in
            let fields: [(String, String)] = [
                ("id", jsonString(credential.id)),
                ("client", jsonString(credential.clientName)),
                ("account", jsonString(credential.accountName)),
                ("kind", jsonString(credential.kind.name)),
                ("login", credential.login.map(jsonString) ?? "null"),
                ("status", jsonString(credential.status(at: now).rawValue)),
                ("scopes", "[" + credential.scopes.map { jsonString($0.description) }.joined(separator: ", ") + "]"),
                ("created", jsonString(CredentialsCommandLine.format(credential.createdAt))),
                ("expires", credential.expiresAt.map { jsonString(CredentialsCommandLine.format($0)) } ?? "null"),
                ("revoked", credential.revokedAt.map { jsonString(CredentialsCommandLine.format($0)) } ?? "null"),
                ("lastUsed", credential.lastUsedAt.map { jsonString(CredentialsCommandLine.format($0)) } ?? "null"),
            ]
            return "  {" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
        }
        return objects.isEmpty ? "[]" : "[\n" + objects.joined(separator: ",\n") + "\n]"
    }
}
