import HTTP1
import Testing

/// One message as the parser delivered it, body bytes gathered.
struct ParsedMessage: Equatable, CustomStringConvertible {
    enum Head: Equatable {
        case request(HTTPRequestHead)
        case response(HTTPResponseHead)
        case informational(HTTPResponseHead)
    }

    var head: Head
    var body: [UInt8] = []
    var trailers: HTTPHeaders? = nil
    var ended = false

    var description: String {
        let bodyText = String(decoding: body, as: UTF8.self).debugDescription
        return "\(head) body=\(bodyText) trailers=\(String(describing: trailers)) ended=\(ended)"
    }
}

/// Everything a parse run produced: the messages, the rule broken if any, unconsumed bytes.
struct ParseRun: Equatable {
    var messages: [ParsedMessage] = []
    var brokenRule: HTTPParseError.Rule? = nil
    var leftover: [UInt8] = []
    /// Body events with empty views, which the parser promises never to deliver.
    var emptyBodyEvents = 0
    /// `parse` returned more than it was given.
    var overconsumed = false

    mutating func record(_ event: HTTPRequestParserEvent) {
        switch event {
        case .head(let head): messages.append(ParsedMessage(head: .request(head)))
        case .body(let bytes): recordBody(bytes)
        case .end(let trailers): recordEnd(trailers)
        }
    }

    mutating func record(_ event: HTTPResponseParserEvent) {
        switch event {
        case .informational(let head): messages.append(ParsedMessage(head: .informational(head), ended: true))
        case .head(let head): messages.append(ParsedMessage(head: .response(head)))
        case .body(let bytes): recordBody(bytes)
        case .end(let trailers): recordEnd(trailers)
        }
    }

    private mutating func recordBody(_ bytes: UnsafeRawBufferPointer) {
        if bytes.isEmpty { emptyBodyEvents += 1 }
        messages[messages.count - 1].body.append(contentsOf: bytes)
    }

    private mutating func recordEnd(_ trailers: HTTPHeaders?) {
        messages[messages.count - 1].trailers = trailers
        messages[messages.count - 1].ended = true
    }
}

/// Ways to cut one message into the pieces a socket might deliver.
enum Splitting {
    static func whole(_ bytes: [UInt8]) -> [[UInt8]] { [bytes] }

    static func byteAtATime(_ bytes: [UInt8]) -> [[UInt8]] { bytes.map { [$0] } }

    /// Every split into two non-empty pieces.
    static func everyTwoWaySplit(_ bytes: [UInt8]) -> [[[UInt8]]] {
        guard bytes.count > 1 else { return [[bytes]] }
        return (1..<bytes.count).map { [Array(bytes[..<$0]), Array(bytes[$0...])] }
    }
}

/// Feeds pieces to a request parser the way a connection does: unconsumed bytes are kept and
/// the next piece appended to them.
func parseRequests(_ pieces: [[UInt8]], limits: HTTPLimits = HTTPLimits()) -> ParseRun {
    var parser = HTTPRequestParser(limits: limits)
    var run = ParseRun()
    var pending: [UInt8] = []
    for piece in pieces {
        pending += piece
        do {
            let consumed = try pending.withUnsafeBytes { buffer in
                try parser.parse(buffer) { event in
                    run.record(event)
                    return .proceed
                }
            }
            if consumed > pending.count { run.overconsumed = true }
            pending.removeFirst(min(consumed, pending.count))
        } catch let error as HTTPParseError {
            run.brokenRule = error.rule
            break
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
    run.leftover = pending
    return run
}

/// Feeds pieces to a response parser that expects answers to `methods`; calls finish at the end
/// when `finishAtEnd`.
func parseResponses(
    _ pieces: [[UInt8]], methods: [String], finishAtEnd: Bool = true, limits: HTTPLimits = HTTPLimits()
) -> ParseRun {
    var parser = HTTPResponseParser(limits: limits)
    for method in methods { parser.expectResponse(toMethod: method) }
    var run = ParseRun()
    var pending: [UInt8] = []
    do {
        for piece in pieces {
            pending += piece
            let consumed = try pending.withUnsafeBytes { buffer in
                try parser.parse(buffer) { event in
                    run.record(event)
                    return .proceed
                }
            }
            if consumed > pending.count { run.overconsumed = true }
            pending.removeFirst(min(consumed, pending.count))
        }
        if finishAtEnd {
            try parser.finish { event in
                run.record(event)
                return .proceed
            }
        }
    } catch let error as HTTPParseError {
        run.brokenRule = error.rule
    } catch {
        Issue.record("unexpected error \(error)")
    }
    run.leftover = pending
    return run
}

/// Builders for the expected side of the tables.
func request(
    _ method: String, _ target: String, version: HTTPVersion = .http1_1, _ fields: [(String, String)],
    body: String = "", trailers: [(String, String)]? = nil
) -> ParsedMessage {
    let head = HTTPRequestHead(method: method, target: target, version: version, headers: HTTPHeaders(fields))
    return ParsedMessage(head: .request(head), body: Array(body.utf8), trailers: trailers.map(HTTPHeaders.init),
                         ended: true)
}

func response(
    _ status: Int, _ reason: String, version: HTTPVersion = .http1_1, _ fields: [(String, String)],
    body: String = "", trailers: [(String, String)]? = nil, ended: Bool = true
) -> ParsedMessage {
    let head = HTTPResponseHead(status: status, reason: reason, version: version, headers: HTTPHeaders(fields))
    return ParsedMessage(head: .response(head), body: Array(body.utf8), trailers: trailers.map(HTTPHeaders.init),
                         ended: ended)
}

func informational(_ status: Int, _ reason: String, _ fields: [(String, String)]) -> ParsedMessage {
    let head = HTTPResponseHead(status: status, reason: reason, headers: HTTPHeaders(fields))
    return ParsedMessage(head: .informational(head), ended: true)
}

/// `parse` over an array, keeping the typed error (Array.withUnsafeBytes does not).
extension HTTPRequestParser {
    mutating func parse(
        _ bytes: [UInt8], _ onEvent: (HTTPRequestParserEvent) -> HTTPParserAction = { _ in .proceed }
    ) throws(HTTPParseError) -> Int {
        let result: Result<Int, HTTPParseError> = bytes.withUnsafeBytes { buffer in
            do throws(HTTPParseError) {
                return .success(try parse(buffer, onEvent))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

extension HTTPResponseParser {
    mutating func parse(
        _ bytes: [UInt8], _ onEvent: (HTTPResponseParserEvent) -> HTTPParserAction = { _ in .proceed }
    ) throws(HTTPParseError) -> Int {
        let result: Result<Int, HTTPParseError> = bytes.withUnsafeBytes { buffer in
            do throws(HTTPParseError) {
                return .success(try parse(buffer, onEvent))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}
