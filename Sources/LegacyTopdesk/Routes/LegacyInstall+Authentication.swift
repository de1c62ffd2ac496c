import Foundation
import HTTP1

/// The two-step login, the token header, logout, and (modern profile) application passwords.
extension LegacyInstall {
    static let noTokenMessage = "No authentication token provided"
    static let invalidTokenMessage = "No valid authentication token provided"
    static let noRealmMessage = "User does not have permission to access the REST realm"

    /// `GET /tas/api/login/operator|person` with `Authorization: Basic base64(login:password)`.
    mutating func login(kind: Account.Kind, request: SimulatorRequest, now: TopdeskDate) -> SimulatorResponse {
        guard let authorization = request.headers.first(name: "Authorization"),
            let credentials = LegacyInstall.basicCredentials(authorization)
        else {
            return .error(401, "No credentials provided")
        }
        guard let index = accountIndexByLogin[Self.numberKey(credentials.login)],
            database.accounts[index].kind == kind,
            passwordMatches(database.accounts[index], credentials.password, allowApplicationPassword: true)
        else {
            statistics.loginFailures[credentials.login, default: 0] += 1
            return .error(401, "Invalid login or password")
        }
        let account = database.accounts[index]
        guard account.apiAccess else {
            statistics.loginFailures[credentials.login, default: 0] += 1
            return .error(settings.noPermissionStatus, Self.noRealmMessage)
        }
        statistics.logins[account.login, default: 0] += 1
        let principal = Principal(login: account.login, kind: account.kind, subjectId: account.subjectId)
        let token = tokens.issue(for: principal, now: now.millisecondsSince1970)
        return .text(200, token, contentType: settings.loginContentType)
    }

    private func passwordMatches(_ account: Account, _ password: String, allowApplicationPassword: Bool) -> Bool {
        if account.password == password { return true }
        guard allowApplicationPassword, settings.profile == .modern,
            let applicationPassword = account.applicationPassword
        else { return false }
        return applicationPassword == password
    }

    /// `GET /tas/api/logout`: the token in the header is dead from then on.
    mutating func logout(request: SimulatorRequest, now: TopdeskDate) -> SimulatorResponse {
        let authorization = request.headers.first(name: "Authorization")
        if let authorization, let token = LegacyInstall.tokenIdentifier(authorization) {
            guard tokens.revoke(token, now: now.millisecondsSince1970) else {
                return .error(401, Self.invalidTokenMessage)
            }
            statistics.logouts += 1
            return .empty(200)
        }
        // A client "logging out" while it authenticates with Basic: there is no session to end.
        switch authenticate(request.headers, now: now) {
        case .success: return .empty(200)
        case .failure(let refusal): return refusal.response
        }
    }

    /// Who the request acts as, or the refusal to answer.
    mutating func authenticate(_ headers: HTTPHeaders, now: TopdeskDate) -> Result<Principal, SimulatorResponseError> {
        guard let authorization = headers.first(name: "Authorization") else {
            return .failure(SimulatorResponseError(.error(401, Self.noTokenMessage)))
        }
        if let token = LegacyInstall.tokenIdentifier(authorization) {
            switch tokens.use(token, now: now.millisecondsSince1970) {
            case .valid(let principal): return .success(principal)
            case .invalid: return .failure(SimulatorResponseError(.error(401, Self.invalidTokenMessage)))
            }
        }
        // Before application passwords (November 2017) Basic on a data endpoint meant "no token".
        guard settings.profile == .modern, let credentials = LegacyInstall.basicCredentials(authorization) else {
            return .failure(SimulatorResponseError(.error(401, Self.noTokenMessage)))
        }
        guard let index = accountIndexByLogin[Self.numberKey(credentials.login)],
            let applicationPassword = database.accounts[index].applicationPassword,
            applicationPassword == credentials.password
        else {
            return .failure(SimulatorResponseError(.error(401, "Invalid login or application password")))
        }
        let account = database.accounts[index]
        guard account.apiAccess else {
            return .failure(SimulatorResponseError(.error(settings.noPermissionStatus, Self.noRealmMessage)))
        }
        return .success(Principal(login: account.login, kind: account.kind, subjectId: account.subjectId))
    }

    /// The token of `TOKEN id="..."`: upper-case `TOKEN`, one space, then the first `id="..."`
    /// (some clients append more, e.g. `, APIKEY ...`). Nil when the header is not of that form.
    static func tokenIdentifier(_ authorization: String) -> String? {
        guard authorization.hasPrefix("TOKEN ") else { return nil }
        let rest = authorization.utf8.dropFirst(6)
        let marker = Array("id=\"".utf8)
        var index = rest.startIndex
        while index != rest.endIndex {
            if rest[index...].starts(with: marker) {
                let valueStart = rest.index(index, offsetBy: marker.count)
                guard let valueEnd = rest[valueStart...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
                return String(decoding: rest[valueStart..<valueEnd], as: UTF8.self)
            }
            index = rest.index(after: index)
        }
        return nil
    }

    /// Login and password of `Basic base64(login:password)`; the scheme word is case-insensitive.
    static func basicCredentials(_ authorization: String) -> (login: String, password: String)? {
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].equalsIgnoringASCIICase("Basic"),
            let decoded = Data(base64Encoded: String(parts[1].trimmingOptionalWhitespace()))
        else { return nil }
        let text = String(decoding: decoded, as: UTF8.self)
        guard let colon = text.firstIndex(of: ":") else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    // MARK: - Outside the API

    /// Paths outside `/tas/api`: the web application, not the API. A wrong base path such as
    /// `/tas/login/operator` gets the web login page with 200 (a client reading it as a token is
    /// a classic pitfall); `/tas/secure/...` redirects to that page instead of answering 401.
    func webPage(for segments: [String]) -> SimulatorResponse {
        if segments.count >= 2, segments[0] == "tas", segments[1] == "secure" {
            var response = SimulatorResponse.text(302, LegacyInstall.redirectPage(settings.webLoginPath),
                                                  contentType: "text/html;charset=UTF-8")
            response.headers.add(name: "Location", value: settings.webLoginPath)
            return response
        }
        return .text(200, LegacyInstall.webLoginPage, contentType: "text/html;charset=UTF-8")
    }

    static let webLoginPage = """
        <!DOCTYPE html>
        <html><head><title>TOPdesk - Login</title></head>
        <body class="login"><form method="post" action="/tas/public/login/verify">
        <label>Login name <input name="loginname"></label>
        <label>Password <input type="password" name="password"></label>
        <button type="submit">Log in</button></form></body></html>

        """

    static func redirectPage(_ location: String) -> String {
        "<html><body>Moved to <a href=\"\(location)\">\(location)</a></body></html>\n"
    }

    /// What a servlet container answers for a 401 when the application leaves it the page.
    static let html401Page = """
        <!doctype html><html lang="en"><head><title>HTTP Status 401 - Unauthorized</title></head>
        <body><h1>HTTP Status 401 - Unauthorized</h1><hr class="line" /><p><b>Type</b> Status Report</p>
        <p><b>Description</b> The request has not been applied because it lacks valid authentication
        credentials for the target resource.</p><hr class="line" /><h3>Apache Tomcat</h3></body></html>

        """
}
