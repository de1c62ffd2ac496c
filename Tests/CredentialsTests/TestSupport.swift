import Foundation
import Synchronization
@testable import Credentials

/// A fresh directory under the system temporary directory, removed when the value goes away.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("credentials-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }

    func path(_ name: String) -> String {
        url.appendingPathComponent(name).path
    }

    /// Every byte of the database and its WAL and shared-memory files.
    func storeBytes(_ name: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let file = path(name + suffix)
            if FileManager.default.fileExists(atPath: file) {
                bytes += try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
            }
        }
        return bytes
    }
}

/// A clock moved by hand.
final class ManualClock: Sendable {
    private let current: Mutex<Date>

    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        current = Mutex(start)
    }

    var now: Date {
        current.withLock { $0 }
    }

    func advance(seconds: Double) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }

    var function: @Sendable () -> Date {
        { self.now }
    }
}

extension [UInt8] {
    func contains(subsequence needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else {
            return false
        }
        for start in 0...(count - needle.count) where self[start] == needle[0] {
            if self[start..<(start + needle.count)].elementsEqual(needle) {
                return true
            }
        }
        return false
    }
}

func apiKeyRequest(client: String = "reporting", account: String = "operator-api", scopes: [String] = [],
                   expiresAt: Date? = nil) throws -> CredentialRequest {
    CredentialRequest(clientName: client, accountName: account, kind: .apiKey,
                      scopes: try scopes.map { try Scope(parsing: $0) }, expiresAt: expiresAt)
}

func appPasswordRequest(login: String, client: String = "mobile", account: String = "operator-api",
                        expiresAt: Date? = nil) -> CredentialRequest {
    CredentialRequest(clientName: client, accountName: account, kind: .appPassword(login: login), expiresAt: expiresAt)
}
