import HTTP1

/// A request as the simulator sees it: everything the socket layer received, body included.
public struct SimulatorRequest: Sendable, Equatable {
    public var method: String
    /// The request target exactly as sent (percent-encoding untouched).
    public var target: String
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(method: String, target: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
    }

    public init(head: HTTPRequestHead, body: [UInt8]) {
        self.init(method: head.method, target: head.target, headers: head.headers, body: body)
    }
}

/// A whole response: status, header fields and body bytes (which need not be UTF-8).
public struct SimulatorResponse: Sendable, Equatable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// `application/json` with the serialized value.
    public static func json(_ status: Int, _ value: JSONValue) -> SimulatorResponse {
        json(status, bytes: value.bytes)
    }

    public static func json(_ status: Int, bytes: [UInt8]) -> SimulatorResponse {
        SimulatorResponse(status: status, headers: ["Content-Type": "application/json"], body: bytes)
    }

    /// The install's error shape: a JSON array of `{"message": ...}` objects.
    public static func error(_ status: Int, _ messages: String...) -> SimulatorResponse {
        json(status, .array(messages.map { JSONValue.object(["message": .string($0)]) }))
    }

    public static func text(_ status: Int, _ text: String, contentType: String = "text/plain") -> SimulatorResponse {
        SimulatorResponse(status: status, headers: ["Content-Type": contentType], body: Array(text.utf8))
    }

    public static func empty(_ status: Int) -> SimulatorResponse {
        SimulatorResponse(status: status)
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// What the socket layer must do with an API answer, beyond sending it: the faults set on the
/// control listener decide the delay and whether the connection dies mid-response.
public struct SimulatorOutcome: Sendable, Equatable {
    public var response: SimulatorResponse
    /// Wait this long before answering (without blocking the event loop).
    public var delay: Duration
    /// Send the head (with the full Content-Length) and about half the body, then close.
    public var dropMidResponse: Bool

    public init(response: SimulatorResponse, delay: Duration = .zero, dropMidResponse: Bool = false) {
        self.response = response
        self.delay = delay
        self.dropMidResponse = dropMidResponse
    }
}
