/// An incremental HTTP/1.1 response parser (RFC 9112), for reading an upstream's answers.
///
/// Response framing depends on the request: call `expectResponse(toMethod:)` once per request
/// sent, in order. A response that arrives with no request registered is framed as an answer to
/// GET. 1xx responses other than 101 are delivered as `.informational` and the final response
/// follows. A 101 response is delivered as `.head` and `.end`; after it nothing is parsed
/// (`parse` consumes nothing and `hasSwitchedProtocols` is true). CONNECT is not supported.
public struct HTTPResponseParser: Sendable {
    private var core: HTTPMessageParser<ResponseHeadDecoder>

    public init(limits: HTTPLimits = HTTPLimits()) {
        core = HTTPMessageParser(decoder: ResponseHeadDecoder(limits: limits), limits: limits)
    }

    /// Registers a request sent; its response is parsed after those of earlier requests.
    /// A response to HEAD has no body whatever its fields say (RFC 9112 section 6.3 item 1).
    public mutating func expectResponse(toMethod method: String) {
        core.decoder.expectedResponseToHEAD.append(method == "HEAD")
    }

    /// Parses from `bytes`, calling `onEvent` for each event, and returns how many bytes were
    /// consumed. Same contract as `HTTPRequestParser.parse`.
    public mutating func parse(
        _ bytes: UnsafeRawBufferPointer, _ onEvent: (HTTPResponseParserEvent) -> HTTPParserAction
    ) throws(HTTPParseError) -> Int {
        try core.parse(bytes, onEvent)
    }

    /// Call when the input ends (the connection closed): ends a close-delimited body with `.end`,
    /// or throws `incompleteMessage` when a message was cut short. Hand every byte to `parse`
    /// first: bytes `parse` left unconsumed are not known here.
    public mutating func finish(_ onEvent: (HTTPResponseParserEvent) -> HTTPParserAction) throws(HTTPParseError) {
        try core.finish(onEvent)
    }

    /// Framing of the response whose head was last delivered: `.none`, `.length(n)`, `.chunked`
    /// or `.untilClose`.
    public var bodyFraming: HTTPBodyFraming { core.bodyFraming }

    /// True between responses: no partial response scanned or in progress.
    public var isIdle: Bool { core.isIdle }

    /// True once a 101 Switching Protocols response was parsed.
    public var hasSwitchedProtocols: Bool { core.hasSwitchedProtocols }
}

struct ResponseHeadDecoder: HTTPHeadDecoder {
    typealias Event = HTTPResponseParserEvent
    let limits: HTTPLimits
    /// For each request sent and not yet answered, in order: whether it was HEAD.
    var expectedResponseToHEAD = ExpectationQueue()

    static var startLineTooLong: HTTPParseError.Rule { .lineTooLong }

    static func bodyEvent(_ bytes: UnsafeRawBufferPointer) -> HTTPResponseParserEvent { .body(bytes) }
    static func endEvent(trailers: HTTPHeaders?) -> HTTPResponseParserEvent { .end(trailers: trailers) }

    mutating func decodeHead(
        _ head: UnsafeRawBufferPointer, fieldLines: Int
    ) throws(HTTPParseError) -> (event: HTTPResponseParserEvent, outcome: HeadOutcome) {
        let lineEnd = head.firstLineFeed(from: 0, to: head.count)! - 1

        // status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 section 4).
        // The SP after the code is optional here: many servers omit it when the reason is empty.
        var versionEnd = 0
        while versionEnd < lineEnd && head[versionEnd] != ASCII.space { versionEnd += 1 }
        let version = try StartLine.version(head, 0, versionEnd)
        let codeStart = versionEnd + 1
        guard codeStart + 3 <= lineEnd,
              ByteClass.isDigit(head[codeStart]), ByteClass.isDigit(head[codeStart + 1]),
              ByteClass.isDigit(head[codeStart + 2]),
              codeStart + 3 == lineEnd || head[codeStart + 3] == ASCII.space
        else {
            throw HTTPParseError(.invalidStatusLine, "The status code is not three digits (RFC 9112 section 4).")
        }
        let status = Int(head[codeStart] &- ASCII.zero) * 100 + Int(head[codeStart + 1] &- ASCII.zero) * 10
            + Int(head[codeStart + 2] &- ASCII.zero)
        // RFC 9110 section 15: values outside 100...599 are invalid.
        guard (100...599).contains(status) else {
            throw HTTPParseError(.invalidStatusLine, "The status code is outside 100-599 (RFC 9110 section 15).")
        }
        let reasonStart = min(codeStart + 4, lineEnd)
        var index = reasonStart
        while index < lineEnd {
            // reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ).
            guard ByteClass.isFieldValueByte(head[index]) else {
                throw HTTPParseError(.invalidStatusLine, "The reason phrase holds a control byte (RFC 9112 section 4).")
            }
            index += 1
        }
        let reason = head.string(reasonStart, lineEnd)

        var positions = FramingFieldPositions()
        let headers = try HeaderFieldParser.parseFields(
            head, from: lineEnd + 2, expectedCount: fieldLines, section: .head, positions: &positions)
        // Checked for every response, even those whose body length the fields do not decide: a
        // malformed framing field is forwarded downstream otherwise. Only the transfer codings of
        // a response without a body may be any (a HEAD or 304 answer names what a GET's would
        // use): there is no body whose coding could be lost.
        let bodiless = status == 204 || status == 304 || (status >= 200 && expectedResponseToHEAD.first == true)
        let declared = try MessageFraming.declaredFraming(headers: headers, positions: positions, version: version,
                                                          anyTransferCoding: bodiless)
        let responseHead = HTTPResponseHead(status: status, reason: reason, version: version, headers: headers)

        // RFC 9112 section 6.3 item 1: 1xx, 204 and 304 responses and responses to HEAD end
        // with the head. 1xx responses are interim (RFC 9110 section 15.2).
        if status < 200 {
            if status == 101 {
                _ = expectedResponseToHEAD.removeFirst()
                return (.head(responseHead), .switchingProtocols)
            }
            return (.informational(responseHead), .informational)
        }
        let toHEAD = expectedResponseToHEAD.removeFirst() ?? false
        let framing: HTTPBodyFraming
        if toHEAD || status == 204 || status == 304 {
            framing = .none
        } else {
            switch declared {
            case .chunked: framing = .chunked  // item 4
            case .length(let length): framing = .length(length)  // item 6
            case .undeclared: framing = .untilClose  // item 8
            }
        }
        return (.head(responseHead), .message(framing))
    }
}

/// A FIFO of booleans that stays cheap when a pipeline keeps it short.
struct ExpectationQueue: Sendable {
    private var items: [Bool] = []
    private var head = 0

    mutating func append(_ item: Bool) {
        if head > 16 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        items.append(item)
    }

    var first: Bool? { head < items.count ? items[head] : nil }

    mutating func removeFirst() -> Bool? {
        guard head < items.count else { return nil }
        defer { head += 1 }
        return items[head]
    }
}
