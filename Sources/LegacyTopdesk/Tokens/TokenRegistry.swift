/// Who a token or a Basic credential acts as.
public struct Principal: Sendable, Equatable {
    public var login: String
    public var kind: Account.Kind
    /// The operator or person id.
    public var subjectId: String
}

/// The install's live sessions, in memory only: a restart loses them all, as on a real install.
///
/// A token dies `lifetime` after login, or `idleTimeout` after its last use when that is set,
/// or on logout, or on restart. Time is passed in (`now`, in milliseconds) so tests need no sleep.
/// Not thread-safe: the simulator holds it inside its state mutex.
public struct TokenRegistry: Sendable {
    public struct Session: Sendable, Equatable {
        public var principal: Principal
        public var issuedAt: Int64
        public var lastUsedAt: Int64
    }

    public enum Lookup: Sendable, Equatable {
        case valid(Principal)
        /// Unknown, expired, logged out or dropped by a restart: the install cannot tell them apart.
        case invalid
    }

    public var lifetimeMilliseconds: Int64
    public var idleTimeoutMilliseconds: Int64?
    private var sessions: [String: Session] = [:]
    private var makeToken: @Sendable () -> String

    public init(lifetime: Duration, idleTimeout: Duration?, makeToken: @escaping @Sendable () -> String) {
        lifetimeMilliseconds = TokenRegistry.milliseconds(lifetime)
        idleTimeoutMilliseconds = idleTimeout.map(TokenRegistry.milliseconds)
        self.makeToken = makeToken
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// Starts a session and answers its token.
    public mutating func issue(for principal: Principal, now: Int64) -> String {
        var token = makeToken()
        while sessions[token] != nil { token = makeToken() }
        sessions[token] = Session(principal: principal, issuedAt: now, lastUsedAt: now)
        return token
    }

    /// Checks a token and, when it is alive, marks it used now.
    public mutating func use(_ token: String, now: Int64) -> Lookup {
        guard var session = sessions[token] else { return .invalid }
        guard isAlive(session, now: now) else {
            sessions[token] = nil
            return .invalid
        }
        session.lastUsedAt = now
        sessions[token] = session
        return .valid(session.principal)
    }

    /// Ends one session; answers whether it was alive.
    @discardableResult
    public mutating func revoke(_ token: String, now: Int64) -> Bool {
        guard let session = sessions.removeValue(forKey: token) else { return false }
        return isAlive(session, now: now)
    }

    /// Ends every session (a restart).
    public mutating func revokeAll() {
        sessions.removeAll()
    }

    /// Drops dead sessions and answers how many are alive.
    public mutating func activeCount(now: Int64) -> Int {
        sessions = sessions.filter { isAlive($0.value, now: now) }
        return sessions.count
    }

    private func isAlive(_ session: Session, now: Int64) -> Bool {
        if now - session.issuedAt >= lifetimeMilliseconds { return false }
        if let idle = idleTimeoutMilliseconds, now - session.lastUsedAt >= idle { return false }
        return true
    }
}
