/// What a head decoder concluded about the message whose head it read.
enum HeadOutcome {
    /// A message with a body framed like this; `.none` ends the message right after the head.
    case message(HTTPBodyFraming)
    /// A 1xx response other than 101: the final response head follows.
    case informational
    /// 101 Switching Protocols: the message ends after the head and the bytes after it are no
    /// longer HTTP/1.1.
    case switchingProtocols
}

/// Reads a complete head: the part that differs between requests and responses.
protocol HTTPHeadDecoder: Sendable {
    associatedtype Event

    /// The rule broken by a start line longer than `maxLineLength`.
    static var startLineTooLong: HTTPParseError.Rule { get }

    /// Decodes `head` (start line through the empty line), holding `fieldLines` field lines.
    mutating func decodeHead(
        _ head: UnsafeRawBufferPointer, fieldLines: Int
    ) throws(HTTPParseError) -> (event: Event, outcome: HeadOutcome)

    static func bodyEvent(_ bytes: UnsafeRawBufferPointer) -> Event
    static func endEvent(trailers: HTTPHeaders?) -> Event
}

/// The parsing core shared by requests and responses: finds heads, frames bodies and decodes the
/// chunked coding, handing each piece to the caller as it completes (RFC 9112).
///
/// Policy, where the RFCs leave a choice:
/// - Strict wherever two recipients could disagree on where a message ends or what it says: both
///   Content-Length and Transfer-Encoding, differing or malformed Content-Length, a final coding
///   other than chunked, bare LF, bare CR, obs-fold, whitespace before a colon or after the start
///   line, control bytes in fields: all rejected, never repaired.
/// - A Content-Length list of identical values (`5, 5`, or two fields of 5) is read as 5
///   (RFC 9110 section 8.6 allows either).
/// - Lenient where nothing can be smuggled: empty lines before a start line are skipped
///   (RFC 9112 section 2.2), a status line may omit the space before an empty reason, request
///   targets may hold the printable ASCII RFC 3986 leaves out.
/// - Field values and reason phrases are turned into Strings as UTF-8; obs-text bytes that are not
///   valid UTF-8 become U+FFFD, so such a value is not forwarded byte for byte.
struct HTTPMessageParser<Decoder: HTTPHeadDecoder>: Sendable {
    enum State: Sendable {
        /// Waiting for (the rest of) a head.
        case head
        /// In a body with a known length; at 0 the end event is still to be delivered.
        case lengthBody(remaining: Int)
        /// Waiting for a chunk-size line.
        case chunkSizeLine
        /// In the data of a chunk.
        case chunkData(remaining: Int)
        /// Waiting for the CRLF after a chunk's data.
        case chunkDataEnd
        /// Waiting for the trailer section after the last chunk.
        case trailers
        /// In a response body that ends when the connection closes.
        case untilClose
        /// The head of a 101 response was delivered; its end event is still to come.
        case switchingProtocolsEnd
        /// After a 101 response: nothing more is parsed.
        case switchedProtocols
        /// A rule was broken; every call throws this error.
        case failed(HTTPParseError)
    }

    private(set) var state: State = .head
    private var scanner = SectionScanner()
    /// A lone CR was left unconsumed where a start line or an empty line may begin.
    private var holdsCarriageReturn = false
    var decoder: Decoder
    let limits: HTTPLimits
    private(set) var bodyFraming: HTTPBodyFraming = .none

    init(decoder: Decoder, limits: HTTPLimits) {
        self.decoder = decoder
        self.limits = limits
    }

    var isIdle: Bool {
        switch state {
        case .head: return scanner.isFresh && !holdsCarriageReturn
        case .lengthBody, .chunkSizeLine, .chunkData, .chunkDataEnd, .trailers, .untilClose,
             .switchingProtocolsEnd, .switchedProtocols, .failed:
            return false
        }
    }

    var hasSwitchedProtocols: Bool {
        switch state {
        case .switchingProtocolsEnd, .switchedProtocols: return true
        case .head, .lengthBody, .chunkSizeLine, .chunkData, .chunkDataEnd, .trailers, .untilClose, .failed:
            return false
        }
    }

    mutating func parse(
        _ bytes: UnsafeRawBufferPointer, _ onEvent: (Decoder.Event) -> HTTPParserAction
    ) throws(HTTPParseError) -> Int {
        do {
            return try parseUntilStuck(bytes, onEvent)
        } catch {
            state = .failed(error)
            throw error
        }
    }

    /// Ends the input: delivers a pending end, or the end of a close-delimited body (RFC 9112
    /// section 6.3 item 8); throws when a message was cut short.
    mutating func finish(_ onEvent: (Decoder.Event) -> HTTPParserAction) throws(HTTPParseError) {
        switch state {
        case .head:
            if !scanner.isFresh || holdsCarriageReturn { fail(.incompleteMessage, "The input ended inside a head.") }
        case .lengthBody(let remaining):
            if remaining == 0 {
                state = .head
                _ = onEvent(Decoder.endEvent(trailers: nil))
            } else {
                fail(.incompleteMessage, "The input ended before Content-Length bytes of body arrived.")
            }
        case .chunkSizeLine, .chunkData, .chunkDataEnd, .trailers:
            fail(.incompleteMessage, "The input ended inside a chunked body.")
        case .untilClose:
            state = .head
            _ = onEvent(Decoder.endEvent(trailers: nil))
        case .switchingProtocolsEnd:
            state = .switchedProtocols
            _ = onEvent(Decoder.endEvent(trailers: nil))
        case .switchedProtocols:
            break
        case .failed:
            break
        }
        if case .failed(let error) = state { throw error }
    }

    private mutating func fail(_ rule: HTTPParseError.Rule, _ detail: String) {
        state = .failed(HTTPParseError(rule, detail))
    }

    private mutating func parseUntilStuck(
        _ bytes: UnsafeRawBufferPointer, _ onEvent: (Decoder.Event) -> HTTPParserAction
    ) throws(HTTPParseError) -> Int {
        var position = 0
        let end = bytes.count
        while true {
            switch state {
            case .failed(let error):
                throw error

            case .head:
                if scanner.isFresh {
                    // RFC 9112 section 2.2: ignore empty lines before a start line (clients send
                    // a stray CRLF after a body).
                    while end - position >= 2 && bytes[position] == ASCII.carriageReturn
                        && bytes[position + 1] == ASCII.lineFeed {
                        position += 2
                    }
                    holdsCarriageReturn = end - position == 1 && bytes[position] == ASCII.carriageReturn
                    if position == end || holdsCarriageReturn { return position }
                }
                let kind = SectionScanner.Kind.head(startLineTooLong: Decoder.startLineTooLong)
                guard let section = try scanner.scan(bytes, from: position, kind: kind, limits: limits) else {
                    return position
                }
                let head = UnsafeRawBufferPointer(rebasing: bytes[position..<section.end])
                let (event, outcome) = try decoder.decodeHead(head, fieldLines: section.fieldLines)
                position = section.end
                switch outcome {
                case .informational:
                    break
                case .switchingProtocols:
                    bodyFraming = .none
                    state = .switchingProtocolsEnd
                case .message(let framing):
                    bodyFraming = framing
                    switch framing {
                    case .none: state = .lengthBody(remaining: 0)
                    case .length(let length): state = .lengthBody(remaining: length)
                    case .chunked: state = .chunkSizeLine
                    case .untilClose: state = .untilClose
                    }
                }
                if onEvent(event) == .pause { return position }

            case .lengthBody(let remaining):
                if remaining == 0 {
                    state = .head
                    if onEvent(Decoder.endEvent(trailers: nil)) == .pause { return position }
                    continue
                }
                if position == end { return position }
                let count = min(remaining, end - position)
                let view = UnsafeRawBufferPointer(rebasing: bytes[position..<position + count])
                position += count
                state = .lengthBody(remaining: remaining - count)
                if onEvent(Decoder.bodyEvent(view)) == .pause { return position }

            case .chunkSizeLine:
                guard let section = try scanner.scan(bytes, from: position, kind: .chunkSizeLine, limits: limits)
                else { return position }
                let size = try ChunkSizeLine.parse(bytes, position, section.end - 2)
                position = section.end
                // RFC 9112 section 7.1: the last chunk has size zero; trailers follow.
                state = size == 0 ? .trailers : .chunkData(remaining: size)

            case .chunkData(let remaining):
                if position == end { return position }
                let count = min(remaining, end - position)
                let view = UnsafeRawBufferPointer(rebasing: bytes[position..<position + count])
                position += count
                state = count == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - count)
                if onEvent(Decoder.bodyEvent(view)) == .pause { return position }

            case .chunkDataEnd:
                // RFC 9112 section 7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF.
                if position == end { return position }
                guard bytes[position] == ASCII.carriageReturn else { throw missingChunkDataTerminator }
                if end - position == 1 { return position }
                guard bytes[position + 1] == ASCII.lineFeed else { throw missingChunkDataTerminator }
                position += 2
                state = .chunkSizeLine

            case .trailers:
                guard let section = try scanner.scan(bytes, from: position, kind: .trailers, limits: limits)
                else { return position }
                var trailers: HTTPHeaders? = nil
                if section.fieldLines > 0 {
                    // RFC 9112 section 7.1.2: trailer fields use the field-line syntax.
                    var positions = FramingFieldPositions()
                    trailers = try HeaderFieldParser.parseFields(
                        bytes, from: position, expectedCount: section.fieldLines, section: .trailers,
                        positions: &positions)
                }
                position = section.end
                state = .head
                if onEvent(Decoder.endEvent(trailers: trailers)) == .pause { return position }

            case .untilClose:
                if position == end { return position }
                let view = UnsafeRawBufferPointer(rebasing: bytes[position..<end])
                position = end
                if onEvent(Decoder.bodyEvent(view)) == .pause { return position }

            case .switchingProtocolsEnd:
                state = .switchedProtocols
                if onEvent(Decoder.endEvent(trailers: nil)) == .pause { return position }

            case .switchedProtocols:
                return position
            }
        }
    }

    private var missingChunkDataTerminator: HTTPParseError {
        HTTPParseError(.missingChunkDataTerminator, "Chunk data is not followed by CRLF (RFC 9112 section 7.1).")
    }
}
