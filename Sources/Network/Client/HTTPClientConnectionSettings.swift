import Glibc
import HTTP1

/// What every connection of a client needs, worked out once: the resolved address, TLS settings
/// and timeouts in loop nanoseconds.
struct HTTPClientConnectionSettings {
    /// The upstream address, or why it could not be resolved (every request then fails with it).
    let address: Result<SocketAddress, HTTPClientError>
    let tls: TLSClientContext?
    let serverName: String?
    let connectTimeout: Duration
    let responseTimeoutNanoseconds: UInt64
    let limits: HTTPLimits
    /// "host:port", for error details.
    let upstreamDescription: String

    init(configuration: HTTPClientConfiguration) {
        address = Self.resolve(host: configuration.host, port: configuration.port)
        tls = configuration.tls
        serverName = configuration.serverName ?? (configuration.tls == nil ? nil : configuration.host)
        connectTimeout = configuration.connectTimeout
        responseTimeoutNanoseconds = configuration.responseTimeout.nanoseconds
        limits = configuration.limits
        upstreamDescription = "\(configuration.host):\(configuration.port)"
    }

    /// A numeric address as is; a name through `getaddrinfo`, once, taking the first answer.
    static func resolve(host: String, port: Int) -> Result<SocketAddress, HTTPClientError> {
        if let numeric = try? SocketAddress(host: host, port: port) { return .success(numeric) }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0, let first = list else {
            let reason = String(cString: gai_strerror(status))
            return .failure(HTTPClientError(kind: .connectFailed, detail: "getaddrinfo(\(host)): \(reason)"))
        }
        defer { freeaddrinfo(list) }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let converted: UnsafePointer<CChar>?
        switch first.pointee.ai_family {
        case AF_INET:
            var address = first.pointee.ai_addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee }
            converted = inet_ntop(AF_INET, &address.sin_addr, &text, socklen_t(text.count))
        case AF_INET6:
            var address = first.pointee.ai_addr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee }
            converted = inet_ntop(AF_INET6, &address.sin6_addr, &text, socklen_t(text.count))
        default:
            converted = nil
        }
        let numeric = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard converted != nil, let address = try? SocketAddress(host: numeric, port: port) else {
            return .failure(HTTPClientError(kind: .connectFailed, detail: "getaddrinfo(\(host)): no usable address"))
        }
        return .success(address)
    }
}
