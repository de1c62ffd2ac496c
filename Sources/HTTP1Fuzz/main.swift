// libFuzzer target for the HTTP1 parsers.
//
// This file is valid built both ways, without a compilation condition (the parser rejects
// top-level statements under -parse-as-library even inside an inactive #if):
// - Fuzzing (scripts/fuzz): `-sanitize=fuzzer,address -parse-as-library`. libFuzzer supplies
//   `main()` and calls `LLVMFuzzerTestOneInput`. Under -parse-as-library the global `replay` at the
//   end is lazily initialized and never read, so nothing runs besides the fuzzer.
// - The normal package build: main.swift is top-level code, so that global is initialized at
//   start-up, which replays the inputs named on the command line (a crash file, a corpus) through
//   the same checks without sanitizers.

import HTTP1

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: data == nil ? 0 : size))
    checkInvariants(bytes)
    return 0
}

/// Stops the run with a message libFuzzer shows next to the crashing input.
func violated(_ invariant: String) -> Never {
    fatalError("invariant broken: \(invariant)")
}

/// What one run of a parser produced, comparable across ways of feeding the same bytes.
struct Outcome: Equatable {
    static func == (lhs: Outcome, rhs: Outcome) -> Bool {
        lhs.events == rhs.events && lhs.body == rhs.body && lhs.brokenRule == rhs.brokenRule
            && lhs.leftover == rhs.leftover
    }

    enum Event: Equatable {
        case requestHead(HTTPRequestHead)
        case responseHead(HTTPResponseHead)
        case informational(HTTPResponseHead)
        case end(HTTPHeaders?)
    }

    var events: [Event] = []
    /// Body bytes of each message, in order; ends separate messages.
    var body: [UInt8] = []
    /// How many body events delivered `body`; differs with the cuts, so not compared.
    var bodyEvents = 0
    var brokenRule: HTTPParseError.Rule?
    /// Unconsumed bytes at the end; after an error it depends on where the input was cut, so it
    /// is only recorded for runs without one.
    var leftover: Int = 0
}

/// How to cut the input and how the callback answers.
struct Feeding {
    var splitAt: Int?
    var pauseAfterEveryEvent: Bool
}

func checkInvariants(_ input: [UInt8]) {
    let hash = fnv1a(input)
    let split = input.isEmpty ? 0 : Int(hash % UInt64(input.count + 1))
    // Bits of the hash pick which requests the responses answer (HEAD changes framing).
    let methods = (0..<4).map { hash >> (8 + $0) & 1 == 1 ? "HEAD" : "GET" }

    let wholeRequests = runRequestParser(input, Feeding(splitAt: nil, pauseAfterEveryEvent: false))
    let splitRequests = runRequestParser(input, Feeding(splitAt: split, pauseAfterEveryEvent: false))
    let pausedRequests = runRequestParser(input, Feeding(splitAt: split, pauseAfterEveryEvent: true))
    if wholeRequests != splitRequests { violated("request parse differs when split at \(split)") }
    if wholeRequests != pausedRequests { violated("request parse differs when pausing after every event") }

    let wholeResponses = runResponseParser(input, methods, Feeding(splitAt: nil, pauseAfterEveryEvent: false))
    let splitResponses = runResponseParser(input, methods, Feeding(splitAt: split, pauseAfterEveryEvent: false))
    let pausedResponses = runResponseParser(input, methods, Feeding(splitAt: split, pauseAfterEveryEvent: true))
    if wholeResponses != splitResponses { violated("response parse differs when split at \(split)") }
    if wholeResponses != pausedResponses { violated("response parse differs when pausing after every event") }

    for event in wholeRequests.events {
        if case .requestHead(let head) = event { checkRoundTrip(head) }
    }
    for event in wholeResponses.events {
        switch event {
        case .responseHead(let head), .informational(let head): checkRoundTrip(head)
        case .requestHead, .end: break
        }
    }
}

/// Feeds `input` as a connection would: unconsumed bytes are kept and the next piece appended.
func feed(
    _ input: [UInt8], _ feeding: Feeding, eventCount: () -> Int = { 0 },
    _ parse: (UnsafeRawBufferPointer) throws(HTTPParseError) -> Int
) -> (leftover: Int, error: HTTPParseError?) {
    let pieces: [ArraySlice<UInt8>]
    if let splitAt = feeding.splitAt {
        pieces = [input[..<splitAt], input[splitAt...]]
    } else {
        pieces = [input[...]]
    }
    var pending: [UInt8] = []
    for piece in pieces {
        pending += piece
        // Pausing stops after each event (some consume nothing, like the end of a bodiless
        // message); call again until a call neither consumes nor delivers anything.
        while true {
            let eventsBefore = eventCount()
            let result: Result<Int, HTTPParseError> = pending.withUnsafeBytes { buffer in
                do throws(HTTPParseError) { return .success(try parse(buffer)) } catch { return .failure(error) }
            }
            switch result {
            case .failure(let error):
                return (pending.count, error)
            case .success(let consumed):
                if consumed > pending.count { violated("consumed \(consumed) of \(pending.count) bytes") }
                pending.removeFirst(consumed)
                if !feeding.pauseAfterEveryEvent || (consumed == 0 && eventCount() == eventsBefore) { break }
                continue
            }
            break
        }
    }
    return (pending.count, nil)
}

func runRequestParser(_ input: [UInt8], _ feeding: Feeding) -> Outcome {
    var parser = HTTPRequestParser()
    var outcome = Outcome()
    let action: HTTPParserAction = feeding.pauseAfterEveryEvent ? .pause : .proceed
    let (leftover, error) = feed(input, feeding, eventCount: { outcome.events.count + outcome.bodyEvents }) {
        buffer throws(HTTPParseError) in
        try parser.parse(buffer) { event in
            switch event {
            case .head(let head): outcome.events.append(.requestHead(head))
            case .body(let bytes):
                if bytes.isEmpty { violated("empty body event") }
                outcome.body += bytes
                outcome.bodyEvents += 1
            case .end(let trailers): outcome.events.append(.end(trailers))
            }
            return action
        }
    }
    outcome.brokenRule = error?.rule
    outcome.leftover = error == nil ? leftover : 0
    if error == nil && parser.isIdle && leftover > 0 { violated("idle with \(leftover) bytes unconsumed") }
    return outcome
}

func runResponseParser(_ input: [UInt8], _ methods: [String], _ feeding: Feeding) -> Outcome {
    var parser = HTTPResponseParser()
    for method in methods { parser.expectResponse(toMethod: method) }
    var outcome = Outcome()
    let action: HTTPParserAction = feeding.pauseAfterEveryEvent ? .pause : .proceed
    let record = { (event: HTTPResponseParserEvent) -> HTTPParserAction in
        switch event {
        case .informational(let head): outcome.events.append(.informational(head))
        case .head(let head): outcome.events.append(.responseHead(head))
        case .body(let bytes):
            if bytes.isEmpty { violated("empty body event") }
            outcome.body += bytes
            outcome.bodyEvents += 1
        case .end(let trailers): outcome.events.append(.end(trailers))
        }
        return action
    }
    var (leftover, error) = feed(input, feeding, eventCount: { outcome.events.count + outcome.bodyEvents }) {
        buffer throws(HTTPParseError) in
        try parser.parse(buffer, record)
    }
    if error == nil && leftover == 0 {
        do throws(HTTPParseError) {
            try parser.finish(record)
        } catch let finishError {
            error = finishError
        }
    }
    outcome.brokenRule = error?.rule
    outcome.leftover = error == nil ? leftover : 0
    return outcome
}

/// serialize(parsed head) must parse back to the same head.
func checkRoundTrip(_ head: HTTPRequestHead) {
    var wire: [UInt8] = []
    HTTPSerializer.writeHead(head, into: &wire)
    var parser = HTTPRequestParser()
    var reparsed: HTTPRequestHead?
    let (_, error) = feed(wire, Feeding(splitAt: nil, pauseAfterEveryEvent: false)) { buffer throws(HTTPParseError) in
        try parser.parse(buffer) { event in
            if case .head(let head) = event { reparsed = head }
            return .pause
        }
    }
    if let error { violated("serialized request head does not parse: \(error)") }
    if reparsed != head { violated("serialized request head parses differently") }
}

func checkRoundTrip(_ head: HTTPResponseHead) {
    var wire: [UInt8] = []
    HTTPSerializer.writeHead(head, into: &wire)
    var parser = HTTPResponseParser()
    // As an answer to HEAD: its framing checks accept every head a GET's accept, and also those
    // only a bodiless answer may have (any transfer coding), whichever request the head answered.
    parser.expectResponse(toMethod: "HEAD")
    var reparsed: HTTPResponseHead?
    let (_, error) = feed(wire, Feeding(splitAt: nil, pauseAfterEveryEvent: false)) { buffer throws(HTTPParseError) in
        try parser.parse(buffer) { event in
            switch event {
            case .head(let head), .informational(let head): reparsed = head
            case .body, .end: break
            }
            return .pause
        }
    }
    if let error { violated("serialized response head does not parse: \(error)") }
    // An empty reason is written as the standard phrase.
    var expected = head
    if expected.reason.isEmpty { expected.reason = HTTPSerializer.reasonPhrase(for: head.status) }
    if reparsed != expected { violated("serialized response head parses differently") }
}

func fnv1a(_ bytes: [UInt8]) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
        hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
    }
    return hash
}

/// Checks each file named on the command line; returns how many were checked.
func replayCommandLineInputs() -> Int {
    var checked = 0
    for path in CommandLine.arguments.dropFirst() {
        guard let file = fopen(path, "rb") else {
            print("cannot open \(path)")
            exit(1)
        }
        var input: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count <= 0 { break }
            input += chunk[..<count]
        }
        fclose(file)
        checkInvariants(input)
        print("ok \(path) (\(input.count) bytes)")
        checked += 1
    }
    return checked
}

/// Runs at start-up in the normal build only (see the top of the file).
let replay = replayCommandLineInputs()
