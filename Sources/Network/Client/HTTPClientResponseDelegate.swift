import HTTP1

/// Receives one upstream response as it streams in. Every call happens on the event loop the
/// request was executed on. Exactly one of `responseEnd` or `responseFailed` ends the exchange;
/// `responseFailed` may come before or after `responseHead` (check `receivedResponseBytes`).
public protocol HTTPClientResponseDelegate: AnyObject {
    /// The final response head (informational 1xx heads are not delivered). `control` stays valid
    /// until the exchange ends and lets the receiver apply back-pressure.
    func responseHead(_ head: HTTPResponseHead, control: HTTPClientStreamControl)
    /// A piece of the decoded body (chunked coding removed).
    func responseBody(_ bytes: [UInt8])
    func responseEnd(trailers: HTTPHeaders?)
    func responseFailed(_ error: HTTPClientError)
}

/// A whole response, as collected by `HTTPClient.execute(_:body:on:completion:)`.
public struct HTTPClientResponse: Sendable {
    public var head: HTTPResponseHead
    public var body: [UInt8]

    public init(head: HTTPResponseHead, body: [UInt8]) {
        self.head = head
        self.body = body
    }
}

/// What the stream control acts on: the connection carrying the exchange.
protocol HTTPClientExchangeControlling: AnyObject {
    func pauseReading()
    func resumeReading()
    func cancelExchange()
}

/// Back-pressure on the read side of one upstream exchange. Loop-confined: call it on the loop the
/// request runs on. While paused, the connection stops reading its socket (the kernel buffers fill
/// and TCP flow control slows the upstream) and the response timeout does not run. Calls after the
/// exchange ended do nothing.
public final class HTTPClientStreamControl {
    /// The connection while the exchange lives; the connection clears it when the exchange ends.
    /// Strong rather than weak: a weak reference gives the long-lived pooled connection a side
    /// table, and every later retain and release of it would take the runtime's slow path.
    var target: (any HTTPClientExchangeControlling)?

    init(target: any HTTPClientExchangeControlling) {
        self.target = target
    }

    /// Stops reading the upstream socket until `resumeReading()`.
    public func pauseReading() {
        target?.pauseReading()
    }

    public func resumeReading() {
        target?.resumeReading()
    }

    /// Abandons the exchange: the connection is closed (it cannot be reused mid-response) and the
    /// delegate gets `responseFailed` with kind `.poolClosed`. For a downstream that went away.
    public func cancel() {
        target?.cancelExchange()
    }
}

/// Collects a streamed response for the buffered `execute`, up to a byte cap.
final class HTTPClientCollectingDelegate: HTTPClientResponseDelegate {
    private let maxBodyBytes: Int
    private var completion: ((Result<HTTPClientResponse, HTTPClientError>) -> Void)?
    private var head: HTTPResponseHead?
    private var body: [UInt8] = []
    private var control: HTTPClientStreamControl?

    init(maxBodyBytes: Int, completion: @escaping (Result<HTTPClientResponse, HTTPClientError>) -> Void) {
        self.maxBodyBytes = maxBodyBytes
        self.completion = completion
    }

    func responseHead(_ head: HTTPResponseHead, control: HTTPClientStreamControl) {
        self.head = head
        self.control = control
    }

    func responseBody(_ bytes: [UInt8]) {
        guard completion != nil else { return }
        guard body.count + bytes.count <= maxBodyBytes else {
            let error = HTTPClientError(kind: .protocolError,
                                        detail: "response body exceeds maxBufferedResponseBytes (\(maxBodyBytes))",
                                        receivedResponseBytes: true)
            // The rest of the body is not wanted: the connection cannot be reused mid-response.
            let control = self.control
            finish(.failure(error))
            control?.cancel()
            return
        }
        if body.isEmpty { body = bytes } else { body.append(contentsOf: bytes) }
    }

    func responseEnd(trailers: HTTPHeaders?) {
        guard let head else { return }
        finish(.success(HTTPClientResponse(head: head, body: body)))
    }

    func responseFailed(_ error: HTTPClientError) {
        finish(.failure(error))
    }

    private func finish(_ result: Result<HTTPClientResponse, HTTPClientError>) {
        guard let completion else { return }
        self.completion = nil
        control = nil
        completion(result)
    }
}
