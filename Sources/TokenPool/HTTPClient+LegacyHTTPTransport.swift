import HTTP1
import Network

/// Carries legacy logins and logouts over an upstream's keep-alive pool: the same `HTTPClient` the
/// gateway forwards requests with, so a login reuses warm connections.
public struct HTTPClientLoginTransport: LegacyHTTPTransport {
    public let client: HTTPClient
    public let group: EventLoopGroup

    public init(client: HTTPClient, group: EventLoopGroup) {
        self.client = client
        self.group = group
    }

    public func send(_ head: HTTPRequestHead, maxBodyBytes: Int,
                     completion: @escaping @Sendable (Result<(status: Int, body: [UInt8]), LoginFailure>) -> Void) {
        let loop = group.next()
        let client = self.client
        loop.execute {
            client.execute(head, body: [], on: loop) { result in
                switch result {
                case .success(let response) where response.body.count > maxBodyBytes:
                    completion(.failure(.implausibleToken(reason: "the body is larger than \(maxBodyBytes) bytes")))
                case .success(let response):
                    completion(.success((response.head.status, response.body)))
                case .failure(let error):
                    completion(.failure(.network(detail: "\(error.kind): \(error.detail)")))
                }
            }
        }
    }
}
