import HTTP1

/// How an `HTTPServer` listens and what it tolerates from clients.
public struct HTTPServerConfiguration: Sendable {
    /// Where to listen; port 0 picks a free port (`HTTPServer.start` returns it).
    public var address: SocketAddress
    /// TLS settings; nil serves plain HTTP. Default: nil.
    public var tls: TLSServerContext?
    /// Limits on request heads and chunked framing. Default: `HTTPLimits()`.
    public var limits: HTTPLimits
    /// Request bodies are buffered whole up to this many bytes; larger ones get 413 and the
    /// connection closes. Default: 16 MiB.
    public var maxBodyBytes: Int = 16 * 1024 * 1024
    /// From a connection's accept (TLS handshake included) or a request's first byte to the end of
    /// its head; on expiry the client gets 408 and the connection closes. Default: 30 s.
    public var headerTimeout: Duration = .seconds(30)
    /// A keep-alive connection with no request in progress closes after this; it also bounds the
    /// wait between body reads. Default: 75 s.
    public var idleTimeout: Duration = .seconds(75)
    /// Pending response output that makes no progress for this long closes the connection.
    /// Default: 60 s.
    public var writeTimeout: Duration = .seconds(60)
    /// Pending response bytes above which `HTTPResponder.isWritable` turns false. Default: 256 KiB.
    public var highWaterMark: Int = 256 * 1024
    /// Pending response bytes at which `HTTPResponder.observer` hears it can write again. Default: 64 KiB.
    public var lowWaterMark: Int = 64 * 1024
    /// Listen backlog per loop. Default: 4096 (the kernel caps it at net.core.somaxconn).
    public var backlog: Int = 4096

    public init(address: SocketAddress, tls: TLSServerContext? = nil) {
        self.address = address
        self.tls = tls
        self.limits = HTTPLimits()
    }
}
