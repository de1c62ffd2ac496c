/// An incremental HTTP/1.1 request parser (RFC 9112). Feed it bytes as they arrive, in pieces of
/// any size, several pipelined requests at once or one byte at a time; it calls back with the
/// head, views of the body bytes and the end of each request.
///
/// It rejects whatever lets two recipients disagree on where a request ends or what it says
/// (RFC 9112 section 11.2): see `HTTPParseError.Rule` for the list. After an error it is dead.
public struct HTTPRequestParser: Sendable {
    private var core: HTTPMessageParser<RequestHeadDecoder>

    public init(limits: HTTPLimits = HTTPLimits()) {
        core = HTTPMessageParser(decoder: RequestHeadDecoder(limits: limits), limits: limits)
    }

    /// Parses from `bytes`, calling `onEvent` for each event, and returns how many bytes were
    /// consumed. Bytes of an incomplete head (or chunk-size line, or trailer section) are not
    /// consumed: keep them, append what arrives next and call again; the parser remembers how far
    /// it scanned, so this stays linear. Body bytes are consumed as they are delivered. When
    /// `onEvent` returns `.pause`, parsing stops right after that event.
    public mutating func parse(
        _ bytes: UnsafeRawBufferPointer, _ onEvent: (HTTPRequestParserEvent) -> HTTPParserAction
    ) throws(HTTPParseError) -> Int {
        try core.parse(bytes, onEvent)
    }

    /// Framing of the request whose head was last delivered: `.none`, `.length(n)` or `.chunked`.
    public var bodyFraming: HTTPBodyFraming { core.bodyFraming }

    /// True between requests: no partial request scanned or in progress.
    public var isIdle: Bool { core.isIdle }
}

struct RequestHeadDecoder: HTTPHeadDecoder {
    typealias Event = HTTPRequestParserEvent
    let limits: HTTPLimits

    static var startLineTooLong: HTTPParseError.Rule { .requestLineTooLong }

    static func bodyEvent(_ bytes: UnsafeRawBufferPointer) -> HTTPRequestParserEvent { .body(bytes) }
    static func endEvent(trailers: HTTPHeaders?) -> HTTPRequestParserEvent { .end(trailers: trailers) }

    func decodeHead(
        _ head: UnsafeRawBufferPointer, fieldLines: Int
    ) throws(HTTPParseError) -> (event: HTTPRequestParserEvent, outcome: HeadOutcome) {
        // The scanner checked that the first line ends in CRLF.
        let lineEnd = head.firstLineFeed(from: 0, to: head.count)! - 1

        // request-line = method SP request-target SP HTTP-version (RFC 9112 section 3).
        var methodEnd = 0
        while methodEnd < lineEnd && ByteClass.isToken(head[methodEnd]) { methodEnd += 1 }
        guard methodEnd > 0, methodEnd == lineEnd || head[methodEnd] == ASCII.space else {
            throw HTTPParseError(.invalidMethod, "The method is not a token (RFC 9110 section 9.1).")
        }
        var versionStart = lineEnd
        while versionStart > methodEnd && head[versionStart - 1] != ASCII.space { versionStart -= 1 }
        guard methodEnd < lineEnd, versionStart > methodEnd + 1 else {
            throw HTTPParseError(.invalidRequestLine,
                                 "The request line is not method SP target SP version (RFC 9112 section 3).")
        }
        let version = try StartLine.version(head, versionStart, lineEnd)
        let method = head.string(0, methodEnd)
        let targetStart = methodEnd + 1, targetEnd = versionStart - 1
        try checkTarget(head, targetStart, targetEnd, method: method)
        let target = head.string(targetStart, targetEnd)

        var positions = FramingFieldPositions()
        let headers = try HeaderFieldParser.parseFields(
            head, from: lineEnd + 2, expectedCount: fieldLines, section: .head, positions: &positions)
        try checkHost(headers, positions, version: version)

        // RFC 9112 section 6.3 items 3-6: Transfer-Encoding, then Content-Length, else no body.
        let framing: HTTPBodyFraming
        switch try MessageFraming.declaredFraming(headers: headers, positions: positions, version: version) {
        case .undeclared: framing = .none
        case .length(let length): framing = .length(length)
        case .chunked: framing = .chunked
        }
        let requestHead = HTTPRequestHead(method: method, target: target, version: version, headers: headers)
        return (.head(requestHead), .message(framing))
    }

    /// request-target forms (RFC 9112 section 3.2): origin-form, absolute-form (with "://", the
    /// only kind a proxy forwards) and asterisk-form for OPTIONS. authority-form is for CONNECT,
    /// which is not supported.
    private func checkTarget(
        _ head: UnsafeRawBufferPointer, _ start: Int, _ end: Int, method: String
    ) throws(HTTPParseError) {
        guard start < end else {
            throw HTTPParseError(.invalidRequestTarget, "The request target is empty (RFC 9112 section 3.2).")
        }
        var index = start
        while index < end {
            guard ByteClass.isTargetByte(head[index]) else {
                throw HTTPParseError(.invalidRequestTarget,
                                     "The request target holds whitespace, a control byte, a non-ASCII byte "
                                         + "or a fragment (RFC 9112 section 3.2).")
            }
            index += 1
        }
        let first = head[start]
        if first == ASCII.slash { return }  // origin-form, section 3.2.1
        if end - start == 1 && first == ASCII.asterisk {
            if method == "OPTIONS" { return }  // asterisk-form, section 3.2.4
            throw HTTPParseError(.invalidRequestTarget, "The target * is only for OPTIONS (RFC 9112 section 3.2.4).")
        }
        // absolute-form, section 3.2.2: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
        if ByteClass.isAlpha(first) {
            var schemeEnd = start + 1
            while schemeEnd < end {
                let byte = head[schemeEnd]
                guard ByteClass.isAlpha(byte) || ByteClass.isDigit(byte) || byte == UInt8(ascii: "+")
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") else { break }
                schemeEnd += 1
            }
            if end - schemeEnd >= 3 && head[schemeEnd] == ASCII.colon && head[schemeEnd + 1] == ASCII.slash
                && head[schemeEnd + 2] == ASCII.slash {
                return
            }
        }
        throw HTTPParseError(.invalidRequestTarget,
                             "The request target is neither origin-form (/...), absolute-form (scheme://...) "
                                 + "nor * (RFC 9112 section 3.2).")
    }

    /// RFC 9112 section 3.2: reject an HTTP/1.1 request without Host, any request with more than
    /// one, and a Host that is not uri-host [ ":" port ].
    private func checkHost(
        _ headers: HTTPHeaders, _ positions: FramingFieldPositions, version: HTTPVersion
    ) throws(HTTPParseError) {
        if positions.hostCount > 1 {
            throw HTTPParseError(.duplicateHost, "More than one Host header field (RFC 9112 section 3.2).")
        }
        if positions.hostCount == 0 {
            if version == .http1_1 {
                throw HTTPParseError(.missingHost, "An HTTP/1.1 request without Host (RFC 9112 section 3.2).")
            }
            return
        }
        var host = headers.fields[positions.firstHost].value
        let isHost = host.withUTF8 { bytes in bytes.allSatisfy(ByteClass.isHost) }
        if !isHost {
            throw HTTPParseError(
                .invalidHost, "The Host field is not host[:port] (RFC 9112 section 3.2, RFC 3986 section 3.2.2).")
        }
    }
}
