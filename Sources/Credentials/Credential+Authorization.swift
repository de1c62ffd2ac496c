/// The answer to "may this credential send this request?".
public enum ScopeDecision: Sendable, Hashable {
    case allowed
    /// No scope covers the request. `missingScope` describes what would, e.g.
    /// `POST:/tas/api/operatorChanges` (method and normalized path), for the 403 message.
    case denied(missingScope: String)
    /// The path cannot be matched safely (dot segments, encoded slashes, bad escapes; see
    /// `RequestPath`). The gateway should answer 400.
    case unmatchablePath
}

extension Credential {
    /// Checks `method` and request `target` (origin form, query allowed) against the scopes.
    ///
    /// A credential without scopes may do everything, so its check looks at nothing. Otherwise the
    /// path is normalized (see `RequestPath`) and allowed when any scope's method and prefix match.
    /// Paths that need no decoding (the usual case) are matched without allocating.
    public func authorize(method: String, target: String) -> ScopeDecision {
        Scope.authorize(scopes, method: method, target: target)
    }
}

extension Scope {
    /// `Credential.authorize(method:target:)` for a bare list of scopes.
    public static func authorize(_ scopes: [Scope], method: String, target: String) -> ScopeDecision {
        if scopes.isEmpty {
            return .allowed
        }
        let decision = RequestPath.withNormalizedPath(target) { path -> ScopeDecision in
            for scope in scopes where scope.allows(method: method, normalizedPath: path) {
                return .allowed
            }
            return .denied(missingScope: method + ":" + String(decoding: path, as: UTF8.self))
        }
        return decision ?? .unmatchablePath
    }
}
