import HTTP1
import Network
import TokenPool

/// An answer the gateway makes itself: `{"error": "...", "detail": "...", "requestId": "..."}`,
/// written by hand (no Foundation on the request path). `error` is a short stable phrase clients may
/// match on; `detail` is a sentence for people. Neither ever carries a secret or a token.
struct GatewayErrorResponse: Error {
    var status: Int
    var error: String
    var detail: String
    var termination: AccessLogTermination
    /// Extra fields, e.g. `WWW-Authenticate` or `Retry-After`.
    var extraHeaders: [(String, String)] = []

    func head(requestID: String, bodyLength: Int) -> HTTPResponseHead {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(bodyLength))
        headers.add(name: "X-Request-ID", value: requestID)
        headers.add(name: "Cache-Control", value: "no-store")
        for (name, value) in extraHeaders { headers.add(name: name, value: value) }
        return HTTPResponseHead(status: status, reason: HTTPSerializer.reasonPhrase(for: status), headers: headers)
    }

    func body(requestID: String) -> [UInt8] {
        var body: [UInt8] = []
        body.reserveCapacity(64 + error.utf8.count + detail.utf8.count + requestID.utf8.count)
        body.append(contentsOf: "{\"error\":".utf8)
        AccessLogRecord.appendJSONString(error, to: &body)
        body.append(contentsOf: ",\"detail\":".utf8)
        AccessLogRecord.appendJSONString(detail, to: &body)
        body.append(contentsOf: ",\"requestId\":".utf8)
        AccessLogRecord.appendJSONString(requestID, to: &body)
        body.append(contentsOf: "}\n".utf8)
        return body
    }

    // MARK: The gateway's own answers

    static let authenticateChallenge = ("WWW-Authenticate", "Basic realm=\"TokenBridge\"")

    static func unauthorized(_ detail: String) -> GatewayErrorResponse {
        GatewayErrorResponse(status: 401, error: "unauthorized", detail: detail, termination: .unauthorized,
                             extraHeaders: [authenticateChallenge])
    }

    static func credentialStoreUnavailable() -> GatewayErrorResponse {
        GatewayErrorResponse(status: 503, error: "credential store unavailable",
                             detail: "the gateway cannot read its credential store; try again shortly",
                             termination: .gatewayError, extraHeaders: [("Retry-After", "1")])
    }

    static func forbidden(missingScope: String) -> GatewayErrorResponse {
        GatewayErrorResponse(status: 403, error: "forbidden",
                             detail: "the credential lacks the scope \(missingScope)", termination: .forbidden)
    }

    static func badRequest(_ detail: String) -> GatewayErrorResponse {
        GatewayErrorResponse(status: 400, error: "bad request", detail: detail, termination: .clientError)
    }

    /// A path the install would read differently from the gateway (see `RequestPath`).
    static func unreadablePath() -> GatewayErrorResponse {
        badRequest("the request path has dot segments, encoded slashes or bad escapes, which the install would "
                   + "read differently; send the path as it is meant")
    }

    static func misconfiguredAccount(_ accountName: String) -> GatewayErrorResponse {
        GatewayErrorResponse(status: 502, error: "account not configured",
                             detail: "the credential acts as account '\(accountName)', which the gateway does not have",
                             termination: .gatewayError)
    }

    /// A lease that yielded no token. A refused login (bad password, no API permission) is 502
    /// naming the account, never its password; a failing one is 502 with `Retry-After` (the
    /// upstream is at fault, and the pool backs off until then).
    static func tokenUnavailable(_ error: TokenLeaseError, accountName: String) -> GatewayErrorResponse {
        switch error {
        case .accountUnhealthy(let failure):
            return GatewayErrorResponse(
                status: 502, error: "upstream login refused",
                detail: "the upstream refused the login of account '\(accountName)': \(failure)",
                termination: .tokenUnavailable)
        case .loginFailing(let failure, let retryAfter):
            let unreachable: Bool
            if case .network = failure { unreachable = true } else { unreachable = false }
            let seconds = max(1, retryAfter.components.seconds + (retryAfter.components.attoseconds > 0 ? 1 : 0))
            return GatewayErrorResponse(
                status: 502, error: unreachable ? "upstream unreachable" : "upstream login failing",
                detail: "the login of account '\(accountName)' failed: \(failure)",
                termination: unreachable ? .upstreamConnectFailed : .tokenUnavailable,
                extraHeaders: [("Retry-After", String(seconds))])
        case .unknownAccount:
            return misconfiguredAccount(accountName)
        case .shuttingDown:
            return shuttingDown()
        }
    }

    static func shuttingDown() -> GatewayErrorResponse {
        GatewayErrorResponse(status: 503, error: "shutting down", detail: "the gateway is shutting down",
                             termination: .shuttingDown, extraHeaders: [("Retry-After", "1")])
    }

    static func tokenRejected(accountName: String, replayed: Bool) -> GatewayErrorResponse {
        let detail = replayed
            ? "the upstream rejected a fresh token of account '\(accountName)' as well"
            : "the upstream rejected the token of account '\(accountName)' and the request body is too large to replay"
        return GatewayErrorResponse(status: 502, error: "upstream rejected token", detail: detail,
                                    termination: .tokenRejected)
    }

    /// The upstream refused a token issued moments ago, after it had refused another: it refuses
    /// this request, not the token, so the gateway neither logs in again nor replays.
    static func freshTokenRejected(accountName: String) -> GatewayErrorResponse {
        GatewayErrorResponse(
            status: 502, error: "upstream rejected token",
            detail: "the upstream answered 401 with a token of account '\(accountName)' issued moments ago; "
                + "it refuses this request, not the token",
            termination: .tokenRejected)
    }

    /// An upstream exchange that failed before any response byte reached the client: no
    /// connection is 502, no answer in time 504, a broken answer 502.
    static func upstreamFailed(_ error: HTTPClientError, upstreamName: String) -> GatewayErrorResponse {
        switch error.kind {
        case .connectFailed, .tlsFailed:
            return GatewayErrorResponse(status: 502, error: "upstream unreachable",
                                        detail: "cannot reach upstream '\(upstreamName)': \(error.detail)",
                                        termination: .upstreamConnectFailed)
        case .timeout:
            return GatewayErrorResponse(status: 504, error: "upstream timeout",
                                        detail: "upstream '\(upstreamName)' did not answer in time",
                                        termination: .upstreamTimeout)
        case .connectionClosed, .protocolError:
            return GatewayErrorResponse(status: 502, error: "upstream error",
                                        detail: "upstream '\(upstreamName)' failed: \(error.detail)",
                                        termination: .upstreamError)
        case .poolClosed:
            return shuttingDown()
        }
    }
}
