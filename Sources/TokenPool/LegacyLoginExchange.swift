import Foundation
import HTTP1

/// The wire side of the legacy login, without I/O: the request heads to send and how to read the
/// answers (LEGACY_API.md, "Two-step login"). The HTTP client that carries them is a thin adapter.
public enum LegacyLoginExchange {
    /// `GET {prefix}/tas/api/login/{operator|person}` with `Authorization: Basic base64(login:password)`.
    /// `hostHeader` is the upstream authority; `pathPrefix` is "" or starts with "/" and has no
    /// trailing "/".
    public static func loginRequest(kind: AccountKind, login: String, password: String,
                                    hostHeader: String, pathPrefix: String) -> HTTPRequestHead {
        let credentials = Data("\(login):\(password)".utf8).base64EncodedString()
        let target = "\(pathPrefix)/tas/api/login/\(kind.rawValue)"
        return HTTPRequestHead(method: "GET", target: target, headers: HTTPHeaders([
            ("Host", hostHeader),
            ("Authorization", "Basic \(credentials)"),
            ("Accept", "text/plain, */*"),
            ("User-Agent", "TokenBridge"),
        ]))
    }

    /// `GET {prefix}/tas/api/logout` with `Authorization: TOKEN id="..."`.
    public static func logoutRequest(token: LegacyToken, hostHeader: String, pathPrefix: String) -> HTTPRequestHead {
        HTTPRequestHead(method: "GET", target: "\(pathPrefix)/tas/api/logout", headers: HTTPHeaders([
            ("Host", hostHeader),
            ("Authorization", token.authorizationHeaderValue),
            ("User-Agent", "TokenBridge"),
        ]))
    }

    /// `GET {prefix}/tas/api/{operators|persons}/current` with the token: the cheapest call that
    /// every token kind may make and that answers 401 exactly when the token is dead.
    public static func currentUserRequest(token: LegacyToken, hostHeader: String,
                                          pathPrefix: String) -> HTTPRequestHead {
        let collection = token.account.kind == .operator ? "operators" : "persons"
        return HTTPRequestHead(method: "GET", target: "\(pathPrefix)/tas/api/\(collection)/current",
                               headers: HTTPHeaders([
                                   ("Host", hostHeader),
                                   ("Authorization", token.authorizationHeaderValue),
                                   ("Accept", "application/json"),
                                   ("User-Agent", "TokenBridge"),
                               ]))
    }

    /// Reads a login answer: 200 with a plausible token body is the token (surrounding whitespace
    /// trimmed); 401 is bad credentials; any 403 is missing API permission (the "REST realm"
    /// refusal: LEGACY_API.md, step 4; treating every 403 as final errs on the side of fewer
    /// attempts); 200 with anything else (an HTML page from a wrong base path) and every other
    /// status are passing upstream trouble.
    public static func classifyLogin(status: Int, body: [UInt8]) -> Result<String, LoginFailure> {
        switch status {
        case 200:
            guard let text = String(validating: body, as: UTF8.self) else {
                return .failure(.implausibleToken(reason: "the body is not UTF-8 text"))
            }
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if let problem = LegacyTokenFormat.problem(with: trimmed) {
                return .failure(.implausibleToken(reason: problem))
            }
            return .success(trimmed)
        case 401:
            return .failure(.badCredentials)
        case 403:
            return .failure(.missingAPIPermission)
        default:
            return .failure(.upstreamStatus(status))
        }
    }

    /// Reads a logout answer: any 2xx is success; a 401 also means the token is dead, which is what
    /// a logout wanted.
    public static func classifyLogout(status: Int) -> Result<Void, LoginFailure> {
        (200..<300).contains(status) || status == 401 ? .success(()) : .failure(.upstreamStatus(status))
    }
}
