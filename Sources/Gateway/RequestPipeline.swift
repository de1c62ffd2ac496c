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
        // A request with a body was admitted on its head, before the body (`decideBeforeBody`);
        // one without is admitted now (allocating nothing). Either way the configuration it runs
        // with, from start to end, is the snapshot of its admission, whatever a reload does.
        if let admitted = request.admission as? AdmittedHead {
            var outcome = admitted.outcome
            proceed(admitted.admission, request: request, responder: responder, outcome: &outcome,
                    snapshot: admitted.snapshot)
        } else {
            var outcome = RequestOutcome(request)
            let snapshot = snapshots[request.eventLoop]
            let admission = admit(request.head, snapshot: snapshot, outcome: &outcome)
            proceed(admission, request: request, responder: responder, outcome: &outcome, snapshot: snapshot)
        }
    }

    private func proceed(_ admission: Admission, request: HTTPServerRequest, responder: HTTPResponder,
                         outcome: inout RequestOutcome, snapshot: PipelineSnapshot) {
        switch admission {
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

    /// A request with a body goes through steps 1 to 4 on its head alone, before the body is read:
    /// without a valid credential and scope nobody gets the gateway to buffer up to
    /// `limits.bodyBytes` for them. What passes comes back to `handle` with the body.
    func decideBeforeBody(_ request: HTTPServerRequest) -> HeadDecision {
        var outcome = RequestOutcome(request)
        let snapshot = snapshots[request.eventLoop]
        let admission = admit(request.head, snapshot: snapshot, outcome: &outcome)
        guard case .refuse(let refusal) = admission else {
            return .readBody(admission: AdmittedHead(admission: admission, outcome: outcome, snapshot: snapshot))
        }
        return .refuse { [self] responder in
            respond(refusal, to: request, responder: responder, outcome: &outcome, snapshot: snapshot)
        }
    }

    /// What the head decides (request path steps 1 to 4): a refusal, the logout no-op, or the
    /// account route to forward on.
    enum Admission {
        case refuse(GatewayErrorResponse)
        case logout
        case forward(AccountRoute)
    }

    /// A body request's admission with what it was decided with: its outcome so far (request id,
    /// start, client and account) and the configuration snapshot. A class, to travel through the
    /// server as `HTTPServerRequest.admission`.
    final class AdmittedHead {
        let admission: Admission
        let outcome: RequestOutcome
        let snapshot: PipelineSnapshot

        init(admission: Admission, outcome: RequestOutcome, snapshot: PipelineSnapshot) {
            self.admission = admission
            self.outcome = outcome
            self.snapshot = snapshot
        }
    }

    /// Steps 1 to 4; fills in the outcome's client and account once known.
    private func admit(_ head: HTTPRequestHead, snapshot: PipelineSnapshot,
                       outcome: inout RequestOutcome) -> Admission {
        let target = TargetReading(target: head.target)
        if target.sessionEndpoint == .login {
            return .refuse(.tokenLoginNotOffered())
        }

        // 3. Authenticate the client's credential.
        let credential: Credential
        switch authenticate(head.headers, verifier: snapshot.verifier) {
        case .success(let verified):
            credential = verified
        case .failure(let refusal):
            return .refuse(refusal)
        }
        outcome.client = credential.clientName
        outcome.account = credential.accountName
        if target.sessionEndpoint == .logout {
            return .logout
        }

        // 4. Authorize: the credential's scopes, on the path as the install reads it. A path that
        // cannot be read safely is refused for every credential, scoped or not.
        if target.isUnreadable {
            return .refuse(.unreadablePath())
        }
        switch credential.authorize(method: head.method, target: target.originForm ?? head.target) {
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
    private func authenticate(_ headers: HTTPHeaders,
                              verifier: CredentialVerifier) -> Result<Credential, GatewayErrorResponse> {
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
            verification = verifier.verify(apiKey: key)
        case .basic(let login, let password):
            verification = verifier.verify(login: login, password: password)
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
        // The clock itself, not the pass's: a request answered in the pass it arrived in (a 401,
        // or one that waited on the credential store) would otherwise log no time at all.
        let now = request.eventLoop.preciseNow
        let path = AccessLogRecord.path(ofTarget: request.head.target)
        metrics.shard(for: request.eventLoop).record(outcome, path: path, totalNanoseconds: now &- outcome.startedAt)
        accessLogs[request.eventLoop.index].append(AccessLogRecord(
            unixMilliseconds: request.eventLoop.unixMilliseconds, requestID: outcome.requestID,
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
