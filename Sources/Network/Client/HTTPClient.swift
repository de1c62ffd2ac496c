import HTTP1

/// An HTTP/1.1 client for one upstream, with a keep-alive connection pool per event loop.
///
/// A request runs entirely on the loop it is executed on, over a connection of that loop's pool:
/// nothing on the request path is shared between loops, so nothing is locked. A request that
/// failed on a reused connection before any response byte arrived (the upstream closed it while
/// it idled, a race every keep-alive client meets) is sent once more on a fresh connection, unless
/// it is not idempotent (POST, PATCH, ...) and some of it already reached the socket; no other
/// failure is retried (see `HTTPClientPoolStateMachine.shouldRetry`).
public final class HTTPClient: @unchecked Sendable {
    public let configuration: HTTPClientConfiguration
    private let group: EventLoopGroup
    /// Indexed by `EventLoop.index`; pool `i` is touched only on loop `i`.
    private let pools: [HTTPClientPool]

    public init(configuration: HTTPClientConfiguration, group: EventLoopGroup) {
        self.configuration = configuration
        self.group = group
        let settings = HTTPClientConnectionSettings(configuration: configuration)
        var pools: [HTTPClientPool] = []
        for (position, loop) in group.loops.enumerated() {
            precondition(loop.index == position, "event loops are indexed by their position in the group")
            pools.append(HTTPClientPool(loop: loop, settings: settings, configuration: configuration))
        }
        self.pools = pools
    }

    /// Sends `head` and `body` to the upstream and streams the response to `delegate`. Must be
    /// called on `loop`, which must belong to the client's group; the delegate is called on `loop`.
    /// `Content-Length` is set from `body` (see `HTTPClientRequestFraming`); no other header is
    /// added, so the caller sets `Host`.
    public func execute(_ head: consuming HTTPRequestHead, body: [UInt8], on loop: EventLoop,
                        delegate: any HTTPClientResponseDelegate) {
        let pool = pool(for: loop)
        pool.execute(HTTPClientRequest(head: head, body: body, delegate: delegate))
    }

    /// Like `execute(_:body:on:delegate:)` for a head the caller wrote itself; see
    /// `HTTPWireRequestHead` for what it must hold.
    public func execute(wireHead: consuming HTTPWireRequestHead, body: [UInt8], on loop: EventLoop,
                        delegate: any HTTPClientResponseDelegate) {
        let pool = pool(for: loop)
        pool.execute(HTTPClientRequest(wireHead: wireHead, body: body, delegate: delegate))
    }

    /// Like `execute(_:body:on:delegate:)`, collecting the whole response (up to
    /// `configuration.maxBufferedResponseBytes`). `completion` runs on `loop`.
    public func execute(_ head: HTTPRequestHead, body: [UInt8], on loop: EventLoop,
                        completion: @escaping (Result<HTTPClientResponse, HTTPClientError>) -> Void) {
        let delegate = HTTPClientCollectingDelegate(maxBodyBytes: configuration.maxBufferedResponseBytes,
                                                    completion: completion)
        execute(head, body: body, on: loop, delegate: delegate)
    }

    /// Stops taking requests: queued ones fail with `.poolClosed`, idle connections close at once,
    /// and exchanges in flight finish before their connections close. Callable from any thread;
    /// returns without waiting.
    public func shutdown() {
        for (index, pool) in pools.enumerated() {
            pool.loop.execute { self.pools[index].shutdown() }
        }
    }

    /// Connections (busy, idle or connecting) this client holds on `loop`. Call it on `loop` itself,
    /// like every pool operation; a metrics scrape visits each loop in turn.
    public func openConnectionCount(on loop: EventLoop) -> Int {
        pool(for: loop).connectionCount
    }

    /// The pool of `loop`, for tests and metrics. Loop-confined like the pool itself.
    func pool(for loop: EventLoop) -> HTTPClientPool {
        precondition(loop.inEventLoop, "HTTPClient.execute must be called on the loop it names")
        let pool = pools[loop.index]
        precondition(pool.loop === loop, "the loop does not belong to this client's group")
        return pool
    }
}
