import HTTP1
import Network
import TokenPool

/// One authorized request on its way to the upstream and back (DESIGN.md, request path steps 5 to
/// 10): take a token, rewrite, forward, replay once after a rejected token, stream the response
/// with back-pressure, log. Loop-confined: every method runs on the request's event loop.
///
/// The 401 check happens on the upstream's response head, before anything reaches the client, so
/// a rejected token never shows: the token is invalidated (only that one), a fresh one is leased
/// and the request goes out once more, when its body fit the replay buffer.
final class ForwardedRequest: HTTPClientResponseDelegate, HTTPResponderObserver {
    private enum State {
        case waitingForToken
        case awaitingResponse
        /// The upstream rejected the token; its 401 body is read and dropped, then the request is
        /// replayed (or answered with a 502).
        case discardingRejection
        /// The rejected token was issued moments ago; the pool asks the upstream whether it is dead.
        case checkingRejectedToken
        case streaming(HTTPClientStreamControl)
        case finished
    }

    private let request: HTTPServerRequest
    private let responder: HTTPResponder
    /// The account's route as of the request's start; a reload that moves the account to another
    /// upstream is followed when the request waits for a token (see `followReloadedRoute`).
    private var route: AccountRoute
    private let pipeline: RequestPipeline
    private let snapshot: PipelineSnapshot
    private var outcome: RequestOutcome
    private var state = State.waitingForToken
    private var token: LegacyToken?
    private var hasReplayed = false
    /// The pool kept the rejected token as fresh: before a replay, the pool asks the upstream
    /// whether the token itself is dead.
    private var rejectedTokenNeedsCheck = false
    private var clientGone = false
    /// The client's response head, held back until the first body bytes or the end arrive: an
    /// upstream body that breaks before its first byte (a bad chunk size) can then still become a
    /// clean 502 instead of a head followed by a cut connection. Head and body leave in the same
    /// loop pass either way.
    private var pendingClientHead: HTTPResponseHead?
    private var leaseStartedAt: UInt64 = 0
    private var upstreamStartedAt: UInt64 = 0

    private var loop: EventLoop { request.eventLoop }

    init(request: HTTPServerRequest, responder: HTTPResponder, route: AccountRoute, outcome: RequestOutcome,
         pipeline: RequestPipeline, snapshot: PipelineSnapshot) {
        self.snapshot = snapshot
        self.request = request
        self.responder = responder
        self.route = route
        self.outcome = outcome
        self.pipeline = pipeline
    }

    func start() {
        responder.observer = self
        acquireToken()
    }

    // MARK: 5. Token

    private func acquireToken() {
        state = .waitingForToken
        // The fast path: a held token, no allocation, no waiting.
        if let token = route.account.immediateToken() {
            send(with: token)
            return
        }
        leaseStartedAt = loop.now
        route.account.lease(on: loop) { [self] result in
            outcome.tokenWaitNanoseconds &+= loop.now &- leaseStartedAt
            followReloadedRoute()
            switch result {
            case .success(let token):
                send(with: token)
            case .failure(let error):
                fail(.tokenUnavailable(error, accountName: route.name))
            }
        }
    }

    /// A token that had to be waited for (or leased again for a replay) comes from wherever the
    /// account points now; if a reload moved the account to another upstream meanwhile, the request
    /// follows it there, or the new upstream's token would go to the old one and be refused.
    private func followReloadedRoute() {
        guard let current = pipeline.snapshots[loop].routes.accounts[route.name], current !== route,
              current.account === route.account else { return }
        route = current
    }

    // MARK: 6. Rewrite and 7. forward

    private func send(with token: LegacyToken) {
        guard !clientGone else {
            finish(termination: .clientAborted)
            return
        }
        self.token = token
        outcome.gotToken = true
        let context = HeaderRewriter.RequestContext(
            upstream: route.upstream.url, authorization: token.authorizationHeaderValue,
            clientAddress: request.remoteAddress.host, externalScheme: snapshot.settings.externalScheme,
            requestID: outcome.requestID, bodyLength: request.body.count)
        let head: HTTPWireRequestHead
        do {
            head = try HeaderRewriter.upstreamWireRequest(request.head, context: context)
        } catch {
            fail(.badRequest("only origin-form and absolute-form request targets can be forwarded"))
            return
        }
        state = .awaitingResponse
        if upstreamStartedAt == 0 { upstreamStartedAt = loop.now }
        outcome.reachedUpstream = true
        // Request bodies go out on every method: some clients send `null` with a GET.
        route.upstream.client.execute(wireHead: head, body: request.body, on: loop, delegate: self)
    }

    // MARK: HTTPClientResponseDelegate

    func responseHead(_ head: HTTPResponseHead, control: HTTPClientStreamControl) {
        guard case .awaitingResponse = state else { return }
        route.upstream.recordAnswer()
        if clientGone {
            state = .finished
            control.cancel()
            finish(termination: .clientAborted)
            return
        }
        // 8. The upstream rejected the token we injected.
        if head.status == 401 {
            pipeline.metrics.shard(for: loop).recordTokenRejection()
            if let token, pipeline.pool.invalidate(token) == .keptFreshToken {
                rejectedTokenNeedsCheck = true
            }
            state = .discardingRejection
            return
        }
        if let token { route.account.noteServed(token) }

        // The gateway drops Upgrade (hop-by-hop) and never relays another protocol: a 101 here
        // answers a request that asked for none, and passed on it would leave the client waiting
        // for a protocol nobody speaks.
        if head.status == 101 {
            state = .finished
            control.cancel()
            outcome.upstreamNanoseconds = loop.now &- upstreamStartedAt
            let error = HTTPClientError(kind: .protocolError,
                                        detail: "answered 101 Switching Protocols, but no upgrade was asked for")
            fail(.upstreamFailed(error, upstreamName: route.upstream.name))
            return
        }

        // 9. Response: rewrite links, drop cookies and hop-by-hop fields, frame the body ourselves.
        // The head is written when the first body bytes (or the end) arrive.
        outcome.status = head.status
        state = .streaming(control)
        pendingClientHead = head
    }

    /// Sends the held-back head, once, written straight from the upstream's: its fields as the
    /// rewrite leaves them, then framing by what they say. A length that survives the rewrite
    /// (not named in `Connection`, the same in every copy) frames the body; without one the body
    /// goes chunked, or, to an HTTP/1.0 client, which cannot read chunked, until the connection
    /// closes.
    private func sendPendingHead() {
        guard let upstream = pendingClientHead.take() else { return }
        // The request id goes back too, so a client can quote it and find its access-log line.
        let requestID = outcome.requestID
        let status = upstream.status
        // No body follows an answer to HEAD or a 1xx, 204 or 304: such a head gets no framing field.
        let bodyFollows = status >= 200 && status != 204 && status != 304 && request.head.method != "HEAD"
        let chunkedIfNoLength = bodyFollows && request.head.version != .http1_0
        let bound = HeaderRewriter.clientResponseFieldsBound(of: upstream, externalOrigin: { externalOrigin() },
                                                             requestID: requestID)
        responder.sendHead(status: status, reason: upstream.reason, fieldsBound: bound + 32) { writer in
            var lengths = 0
            var length: Int?
            HeaderRewriter.forEachClientResponseField(of: upstream, upstream: route.upstream.url,
                                                      externalOrigin: { externalOrigin() }, requestID: requestID) {
                if $0.isNamed("Content-Length") {
                    lengths += 1
                    let value = FramingFieldSummary.lengthValue(of: $0.value)
                    length = lengths == 1 || value == length ? value : nil
                }
                writer.append(field: $0)
            }
            if lengths > 0 { return length.map { .length($0) } ?? .untilClose }
            guard chunkedIfNoLength else { return .untilClose }
            writer.append("Transfer-Encoding: chunked\r\n")
            return .chunked
        }
    }

    /// The gateway as the client addressed it, for rewritten links; asked for only when the
    /// upstream's head has a link field.
    private func externalOrigin() -> String? {
        HeaderRewriter.externalOrigin(scheme: snapshot.settings.externalScheme,
                                      host: request.head.headers.first(name: "Host"))
    }

    func responseBody(_ bytes: [UInt8]) {
        guard case .streaming(let control) = state else { return }
        sendPendingHead()
        outcome.bytes += bytes.count
        responder.sendBody(bytes)
        if !responder.isWritable { control.pauseReading() }
    }

    func responseEnd(trailers: HTTPHeaders?) {
        switch state {
        case .streaming:
            outcome.upstreamNanoseconds = loop.now &- upstreamStartedAt
            sendPendingHead()
            responder.sendEnd()
            finish(termination: .ok)
        case .discardingRejection:
            replayAfterRejection()
        case .waitingForToken, .awaitingResponse, .checkingRejectedToken, .finished:
            break
        }
    }

    func responseFailed(_ error: HTTPClientError) {
        switch state {
        case .streaming:
            outcome.upstreamNanoseconds = loop.now &- upstreamStartedAt
            if pendingClientHead != nil, !clientGone {
                // Nothing was sent yet: the client gets the gateway's own error instead.
                pendingClientHead = nil
                route.upstream.recordFailure(error)
                fail(.upstreamFailed(error, upstreamName: route.upstream.name))
                return
            }
            // The head went out: only cutting the connection tells the client the body is short.
            responder.abort()
            finish(termination: error.kind == .timeout ? .upstreamTimeout : .upstreamError)
        case .discardingRejection:
            // The 401's body broke off; the token is invalidated all the same.
            replayAfterRejection()
        case .awaitingResponse:
            route.upstream.recordFailure(error)
            outcome.upstreamNanoseconds = loop.now &- upstreamStartedAt
            if clientGone {
                finish(termination: .clientAborted)
            } else {
                fail(.upstreamFailed(error, upstreamName: route.upstream.name))
            }
        case .waitingForToken, .checkingRejectedToken, .finished:
            break
        }
    }

    // MARK: 8. Replay

    private func replayAfterRejection() {
        if rejectedTokenNeedsCheck, let token {
            // A token issued moments ago was refused: replay only if the upstream refuses the
            // token itself, not just this request (TokenPolicy.freshTokenTrust).
            rejectedTokenNeedsCheck = false
            state = .checkingRejectedToken
            pipeline.pool.checkRejectedToken(token, on: loop) { [self] verdict in
                guard case .checkingRejectedToken = state else { return }
                guard !clientGone else {
                    finish(termination: .clientAborted)
                    return
                }
                if verdict == .keptFreshToken {
                    outcome.upstreamNanoseconds = loop.now &- upstreamStartedAt
                    fail(.freshTokenRejected(accountName: route.name))
                } else {
                    replayAfterRejection()
                }
            }
            return
        }
        guard !hasReplayed, request.body.count <= snapshot.settings.replayBufferBytes else {
            outcome.upstreamNanoseconds = loop.now &- upstreamStartedAt
            fail(.tokenRejected(accountName: route.name, replayed: hasReplayed))
            return
        }
        hasReplayed = true
        outcome.retried = true
        followReloadedRoute()
        acquireToken()
    }

    // MARK: Ending

    // MARK: HTTPResponderObserver

    func responderBecameWritable() {
        if case .streaming(let control) = state { control.resumeReading() }
    }

    func responderLostClient() {
        clientWentAway()
    }

    private func clientWentAway() {
        clientGone = true
        if case .streaming(let control) = state {
            state = .finished
            outcome.upstreamNanoseconds = loop.now &- upstreamStartedAt
            control.cancel()
            finish(termination: .clientAborted)
        }
    }

    private func fail(_ error: GatewayErrorResponse) {
        state = .finished
        responder.observer = nil
        pipeline.respond(error, to: request, responder: responder, outcome: &outcome, snapshot: snapshot)
    }

    private func finish(termination: AccessLogTermination) {
        state = .finished
        responder.observer = nil
        outcome.termination = termination
        if termination == .clientAborted, outcome.status == 0 { outcome.status = 499 }
        pipeline.log(outcome, request: request, snapshot: snapshot)
    }
}
