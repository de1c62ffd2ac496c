import HTTP1

/// Settings of one upstream client. Every duration is wall time on the event loop's monotonic clock.
public struct HTTPClientConfiguration: Sendable {
    /// The upstream host: a numeric IPv4/IPv6 address, or a name resolved once when the client is
    /// created (the first address returned is used for the client's whole life).
    public var host: String
    public var port: Int
    /// TLS settings for an `https` upstream; nil for plain TCP.
    public var tls: TLSClientContext?
    /// The name sent as SNI and checked against the upstream's certificate. Nil uses `host`.
    public var serverName: String?
    /// Connections per event loop, counting those being established. Default 64.
    public var maxConnectionsPerLoop: Int = 64
    /// TCP connect plus TLS handshake. Default 5 s.
    public var connectTimeout: Duration = .seconds(5)
    /// From the request being sent to the response head, and between two reads of the body (while
    /// the caller has not paused reading). Also bounds a request write that makes no progress.
    /// Default 60 s.
    public var responseTimeout: Duration = .seconds(60)
    /// A pooled connection nobody used for this long is closed. Keep it below the upstream's own
    /// keep-alive timeout so that the upstream rarely closes a connection the pool is about to use.
    /// Default 50 s.
    public var idleTimeout: Duration = .seconds(50)
    /// Longest wait in the queue for a connection when all `maxConnectionsPerLoop` are busy; the
    /// request then fails with `.timeout`. Nil means `connectTimeout + responseTimeout`: as long as
    /// it takes a healthy upstream to connect and answer the request ahead. Default nil.
    public var queueTimeout: Duration?
    /// Largest body the buffered `execute(_:body:on:completion:)` collects; a larger one fails with
    /// `.protocolError` and its connection is closed. Default 64 MiB.
    public var maxBufferedResponseBytes: Int = 64 * 1024 * 1024
    /// Limits applied while parsing response heads and chunked framing.
    public var limits: HTTPLimits

    public init(host: String, port: Int, tls: TLSClientContext? = nil) {
        self.host = host
        self.port = port
        self.tls = tls
        self.limits = HTTPLimits()
    }

    /// The queue timeout in effect.
    var effectiveQueueTimeout: Duration {
        queueTimeout ?? connectTimeout + responseTimeout
    }
}
