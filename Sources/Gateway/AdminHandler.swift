import Foundation
import HTTP1
import Network
import TokenPool

/// The admin listener (loopback by default): `GET /healthz` (the process answers), `GET /readyz`
/// (503 with a reason while an account is unhealthy), `GET /status` (the token pool per account,
/// without tokens or secrets). Off the request path, so Foundation's JSON is fine here.
final class AdminHandler: HTTPServerHandler {
    private let pool: TokenPool
    /// Account key to the configured account name, for messages people read.
    private let accountNames: [AccountKey: String]

    init(pool: TokenPool, accountNames: [AccountKey: String]) {
        self.pool = pool
        self.accountNames = accountNames
    }

    func handle(_ request: HTTPServerRequest, responder: HTTPResponder) {
        let path = AccessLogRecord.path(ofTarget: request.head.target)
        guard request.head.method == "GET" || request.head.method == "HEAD" else {
            respond(405, ["error": "method not allowed"], responder: responder)
            return
        }
        switch path {
        case "/healthz":
            respond(200, ["status": "ok"], responder: responder)
        case "/readyz":
            let unhealthy = pool.status().filter { !$0.isHealthy }
            if unhealthy.isEmpty {
                respond(200, ["status": "ready"], responder: responder)
            } else {
                let reasons = unhealthy.map { status in
                    "account '\(name(of: status.account))' is \(status.phase.rawValue)"
                        + (status.lastLoginResult.map { ": \(describe($0))" } ?? "")
                }
                respond(503, ["status": "not ready", "reason": reasons.joined(separator: "; ")], responder: responder)
            }
        case "/status":
            respond(200, ["accounts": pool.status().map(statusDocument)], responder: responder)
        default:
            respond(404, ["error": "not found", "detail": "try /healthz, /readyz or /status"], responder: responder)
        }
    }

    private func name(of key: AccountKey) -> String {
        accountNames[key] ?? key.description
    }

    private func statusDocument(_ status: TokenAccountStatus) -> [String: Any] {
        var document: [String: Any] = [
            "name": name(of: status.account),
            "upstream": status.account.upstream,
            "kind": status.account.kind.rawValue,
            "login": status.account.login,
            "phase": status.phase.rawValue,
            "healthy": status.isHealthy,
            "tokenCount": status.tokenCount,
            "tokenAgesSeconds": status.tokenAges.map(seconds),
            "consecutiveFailures": status.consecutiveFailures,
            "loginAttempts": status.loginAttempts,
            "waiters": status.waiters,
        ]
        document["nextRenewalInSeconds"] = status.nextRenewalIn.map(seconds) ?? NSNull()
        document["retryInSeconds"] = status.retryIn.map(seconds) ?? NSNull()
        document["lastLoginResult"] = status.lastLoginResult.map(describe) ?? NSNull()
        document["lastLoginAgoSeconds"] = status.lastLoginAgo.map(seconds) ?? NSNull()
        return document
    }

    private func describe(_ result: TokenAccountStatus.LoginResult) -> String {
        switch result {
        case .succeeded: return "succeeded"
        case .failed(let failure): return "failed: \(failure)"
        }
    }

    private func seconds(_ duration: Duration) -> Double {
        let (whole, fraction) = duration.components
        return ((Double(whole) + Double(fraction) / 1e18) * 1000).rounded() / 1000
    }

    private func respond(_ status: Int, _ document: [String: Any], responder: HTTPResponder) {
        let body = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])) ?? Data("{}".utf8)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Cache-Control", value: "no-store")
        responder.respond(HTTPResponseHead(status: status, reason: HTTPSerializer.reasonPhrase(for: status),
                                           headers: headers), body: Array(body) + [0x0A])
    }
}
