/// Counters served on the control listener's `GET /stats`.
public struct SimulatorStatistics: Sendable, Equatable {
    /// Successful logins per login name.
    public var logins: [String: Int] = [:]
    /// Refused logins (wrong password, unknown login, no API permission) per login name as sent.
    public var loginFailures: [String: Int] = [:]
    /// Tokens ended by `/tas/api/logout`.
    public var logouts = 0
    /// Requests received on the API listener.
    public var requests = 0
    /// `POST /restart` calls.
    public var restarts = 0

    public init() {}

    func json(activeTokens: Int) -> JSONValue {
        func counts(_ dictionary: [String: Int]) -> JSONValue {
            .object(dictionary.sorted { $0.key < $1.key }.map { JSONMember($0.key, .int($0.value)) })
        }
        return .object([
            "logins": counts(logins), "loginFailures": counts(loginFailures), "logouts": .int(logouts),
            "activeTokens": .int(activeTokens), "requests": .int(requests), "restarts": .int(restarts),
        ])
    }
}
