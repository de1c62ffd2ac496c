import Credentials
import HTTP1
import Network
import TokenPool

/// The gateway's request path (DESIGN.md, "The request path"), steps 3 to 10, for every request
/// the client listener accepted. Runs on the connection's event loop; a request that needs to wait
/// (for a login, for the upstream) continues in a `ForwardedRequest` on the same loop.
final class RequestPipeline: HTTPServerHandler {
    let snapshots: LoopLocal<PipelineSnapshot>
    let pool: TokenPool
    let metrics: GatewayMetrics
    /// One per event loop, by index.
    private let accessLogs: [AccessLogBatch]

    init(snapshots: LoopLocal<PipelineSnapshot>, pool: TokenPool, metrics: GatewayMetrics, group: EventLoopGroup) {
        self.snapshots = snapshots
        self.pool = pool
        self.metrics = metrics
        accessLogs = group.loops.map { AccessLogBatch(loop: $0) }
    }

    func handle(_ request: HTTPServerRequest, responder: HTTPResponder) {
        var outcome = RequestOutcome(request)
        // The configuration this request runs with, from start to end, whatever a reload does.
        let snapshot = snapshots[request.eventLoop]
        // A request with a body was admitted on its head already (`refusalBeforeBody`), and its
        // credential check counted in the cache metrics then.
        switch admit(request.head, snapshot: snapshot, outcome: &outcome,
                     countingCredentialCheck: !Self.announcesBody(request.head)) {
        case .refuse(let refusal):
            respond(refusal, to: request, responder: responder, outcome: &outcome, snapshot: snapshot)
        case .logout:
            answerLogout(request, responder: responder, outcome: &outcome, snapshot: snapshot)
        case .forward(let route):
            // 5. to 10. Token, rewrite, forward, replay after a rejected token, response, access log.
            let forwarded = ForwardedRequest(request: request, responder: responder, route: route, outcome: outcome,
                                             pipeline: self, snapshot: snapshot)
            forwarded.start()
        }
    }

    /// A request with a body goes through steps 1 to 4 on its head alone before the body is read:
    /// without a valid credential and scope nobody gets the gateway to buffer up to
    /// `limits.bodyBytes` for them. A request that passes is checked again, whole, by `handle`
    /// (a cached credential check, for requests with bodies only).
    func refusalBeforeBody(_ request: HTTPServerRequest) -> ((HTTPResponder) -> Void)? {
        var outcome = RequestOutcome(request)
        let snapshot = snapshots[request.eventLoop]
        guard case .refuse(let refusal) = admit(request.head, snapshot: snapshot, outcome: &outcome,
                                                countingCredentialCheck: true) else {
            return nil
        }
        return { [self] responder in
            respond(refusal, to: request, responder: responder, outcome: &outcome, snapshot: snapshot)
        }
    }

    /// What the head decides (request path steps 1 to 4): a refusal, the logout no-op, or the
    /// account route to forward on. Fills in the outcome's client and account once known.
    private enum Admission {
        case refuse(GatewayErrorResponse)
        case logout
        case forward(AccountRoute)
    }

    /// Whether the server asked `refusalBeforeBody` about this head: it announces a body (the
    /// parser has checked the framing fields, so a Transfer-Encoding means chunked).
    private static func announcesBody(_ head: HTTPRequestHead) -> Bool {
        for field in head.headers.fields {
            if field.name.equalsIgnoringASCIICase("Transfer-Encoding") { return true }
            if field.name.equalsIgnoringASCIICase("Content-Length") {
                return Int(field.value.trimmingOptionalWhitespace()).map { $0 > 0 } ?? true
            }
        }
        return false
    }

    private func admit(_ head: HTTPRequestHead, snapshot: PipelineSnapshot, outcome: inout RequestOutcome,
                       countingCredentialCheck: Bool) -> Admission {
        // The path as the install reads it (an absolute-form target reduced to its path), read
        // once for the session-endpoint check here and the readability check in step 4. nil when
        // the target has no path to forward; `readablePath` nil when the path cannot be read
        // safely (see RequestPath), .some(endpoint) otherwise.
        var pathTarget: String? = head.target
        if head.target.utf8.first != UInt8(ascii: "/") {
            pathTarget = try? HeaderRewriter.upstreamTarget(head.target, pathPrefix: "")
        }
        let readablePath: LegacySessionEndpoint?? = pathTarget.flatMap { target in
            RequestPath.withNormalizedPath(target) { LegacySessionEndpoint(normalizedPath: $0) }
        }
        let sessionEndpoint = readablePath ?? nil
        if sessionEndpoint == .login {
            return .refuse(.tokenLoginNotOffered())
        }

        // 3. Authenticate the client's credential.
        let credential: Credential
        switch authenticate(head.headers, verifier: snapshot.verifier, counted: countingCredentialCheck) {
        case .success(let verified):
            credential = verified
        case .failure(let refusal):
            return .refuse(refusal)
        }
        outcome.client = credential.clientName
        outcome.account = credential.accountName
        if sessionEndpoint == .logout {
            return .logout
        }

        // 4. Authorize: the credential's scopes, on the path as the install reads it (an absolute-form
        // target reduced to its path). The install resolves dot segments and decodes escapes, so a
        // path that cannot be read safely is refused for every credential, scoped or not: forwarded,
        // `/tas/api/x/../logout` would end the pooled token just as a plain logout would.
        if pathTarget != nil, readablePath == nil {
            return .refuse(.unreadablePath())
        }
        switch credential.authorize(method: head.method, target: pathTarget ?? head.target) {
        case .allowed:
            break
        case .denied(let missingScope):
            return .refuse(.forbidden(missingScope: missingScope))
        case .unmatchablePath:
            return .refuse(.unreadablePath())
        }
        guard let route = snapshot.routes.accounts[credential.accountName] else {
            return .refuse(.misconfiguredAccount(credential.accountName))
        }
        return .forward(route)
    }

    /// Finds and verifies the presented credential. Unknown, wrong, revoked and expired all answer
    /// the same 401 (telling them apart would help someone guessing keys).
    private func authenticate(_ headers: HTTPHeaders, verifier: CredentialVerifier,
                              counted: Bool) -> Result<Credential, GatewayErrorResponse> {
        let verification: Verification
        switch PresentedCredential(headers: headers) {
        case .none:
            return .failure(.unauthorized("no credential: send an application password (Basic) or an API key "
                                          + "(Bearer or X-API-Key)"))
        case .unreadable:
            return .failure(.unauthorized("the Authorization header is not Basic or Bearer, or is malformed"))
        case .ambiguous:
            return .failure(.unauthorized("more than one credential: send one Authorization or X-API-Key field"))
        case .apiKey(let key):
            verification = verifier.verify(apiKey: key, counted: counted)
        case .basic(let login, let password):
            verification = verifier.verify(login: login, password: password, counted: counted)
        }
        switch verification {
        case .valid(let credential):
            return .success(credential)
        case .invalid, .revoked, .expired:
            return .failure(.unauthorized("the credential is unknown, revoked or expired"))
        case .storeUnavailable:
            return .failure(.credentialStoreUnavailable())
        }
    }

    /// `/tas/api/logout` from an authenticated client: a no-op 200, as the install answers a
    /// logout that ends a session. The pooled token is not the client's to end.
    private func answerLogout(_ request: HTTPServerRequest, responder: HTTPResponder, outcome: inout RequestOutcome,
                              snapshot: PipelineSnapshot) {
        guard request.head.method == "GET" || request.head.method == "HEAD" else {
            respond(.logoutMethodNotAllowed(), to: request, responder: responder, outcome: &outcome,
                    snapshot: snapshot)
            return
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Length", value: "0")
        headers.add(name: "X-Request-ID", value: outcome.requestID)
        headers.add(name: "Cache-Control", value: "no-store")
        let head = HTTPResponseHead(status: 200, reason: HTTPSerializer.reasonPhrase(for: 200), headers: headers)
        responder.respond(head, body: [])
        outcome.status = 200
        log(outcome, request: request, snapshot: snapshot)
    }

    /// Answers with the gateway's own JSON error and writes the access log line.
    func respond(_ error: GatewayErrorResponse, to request: HTTPServerRequest, responder: HTTPResponder,
                 outcome: inout RequestOutcome, snapshot: PipelineSnapshot) {
        let body = error.body(requestID: outcome.requestID)
        responder.respond(error.head(requestID: outcome.requestID, bodyLength: body.count), body: body)
        outcome.status = error.status
        outcome.bytes = request.head.method == "HEAD" ? 0 : body.count
        outcome.termination = error.termination
        log(outcome, request: request, snapshot: snapshot)
    }

    /// Step 10: the access log line, and the request's metrics.
    func log(_ outcome: RequestOutcome, request: HTTPServerRequest, snapshot: PipelineSnapshot) {
        let now = request.eventLoop.now
        let path = AccessLogRecord.path(ofTarget: request.head.target)
        metrics.shard(for: request.eventLoop).record(outcome, path: path, totalNanoseconds: now &- outcome.startedAt)
        accessLogs[request.eventLoop.index].append(AccessLogRecord(
            unixMilliseconds: AccessLogRecord.currentUnixMilliseconds(), requestID: outcome.requestID,
            remoteAddress: request.remoteAddress.host, client: outcome.client, account: outcome.account,
            method: request.head.method, path: path,
            status: outcome.status, bytes: outcome.bytes, total: .nanoseconds(now &- outcome.startedAt),
            tokenWait: .nanoseconds(outcome.tokenWaitNanoseconds), upstream: .nanoseconds(outcome.upstreamNanoseconds),
            retried: outcome.retried, termination: outcome.termination), to: snapshot.logger.sink)
    }
}

/// What the access log line of one request will say, filled in as the request goes.
struct RequestOutcome {
    /// A request starting now, with the client's sane `X-Request-ID` or a fresh id.
    init(_ request: HTTPServerRequest) {
        requestID = HeaderRewriter.requestID(for: request.head.headers, generate: HeaderRewriter.generateRequestID)
        startedAt = request.eventLoop.now
    }

    var requestID: String
    var startedAt: UInt64
    var client: String?
    var account: String?
    var status = 0
    var bytes = 0
    var tokenWaitNanoseconds: UInt64 = 0
    var upstreamNanoseconds: UInt64 = 0
    var retried = false
    var termination = AccessLogTermination.ok
    /// A token was leased (the request got as far as step 6).
    var gotToken = false
    /// The request went out to the upstream at least once.
    var reachedUpstream = false
}
