import Foundation
import HTTP1
import Synchronization

@testable import LegacyTopdesk

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let current: Mutex<TopdeskDate>

    init(_ start: TopdeskDate = TopdeskDate(year: 2017, month: 10, day: 16, hour: 9, minute: 12)) {
        current = Mutex(start)
    }

    var now: TopdeskDate { current.withLock { $0 } }

    func advance(seconds: Int64) {
        current.withLock { $0 = $0.adding(seconds: seconds) }
    }
}

/// Counting ids: predictable and unique within one simulator.
final class CountingIDs: Sendable {
    private let counter = Mutex(0)

    func next() -> String {
        let value = counter.withLock { count -> Int in
            count += 1
            return count
        }
        return "00000000-0000-4000-8000-" + String(value).leftPadded(12)
    }
}

/// A simulator on a manual clock, plus helpers that build requests the way clients send them.
struct Harness {
    let clock = ManualClock()
    let simulator: LegacyTopdeskSimulator

    init(settings: SimulatorSettings = SimulatorSettings(), database: TopdeskDatabase = .demo,
         random: @escaping @Sendable () -> Double = { 0.5 }) {
        let clock = self.clock
        let ids = CountingIDs()
        simulator = LegacyTopdeskSimulator(settings: settings, database: database, clock: { clock.now },
                                           random: random, makeID: { ids.next() })
    }

    static func basic(_ login: String, _ password: String, scheme: String = "Basic") -> String {
        "\(scheme) " + Data("\(login):\(password)".utf8).base64EncodedString()
    }

    static func tokenHeader(_ token: String) -> String { "TOKEN id=\"\(token)\"" }

    func send(_ method: String, _ target: String, headers: [(String, String)] = [], body: [UInt8] = [])
        -> SimulatorResponse
    {
        simulator.handle(SimulatorRequest(method: method, target: target, headers: HTTPHeaders(headers), body: body))
    }

    func get(_ target: String, token: String?) -> SimulatorResponse {
        send("GET", target, headers: token.map { [("Authorization", Harness.tokenHeader($0))] } ?? [])
    }

    func sendJSON(_ method: String, _ target: String, token: String, _ json: String,
                  contentType: String = "application/json") -> SimulatorResponse {
        send(method, target, headers: [("Authorization", Harness.tokenHeader(token)), ("Content-Type", contentType)],
             body: Array(json.utf8))
    }

    func login(_ kind: String = "operator", _ login: String = "api.operator", _ password: String = "Operator-Pass-1")
        -> SimulatorResponse
    {
        send("GET", "/tas/api/login/\(kind)", headers: [("Authorization", Harness.basic(login, password))])
    }

    func operatorToken() -> String { login().bodyText }

    func personToken() -> String { login("person", "b.palmer", "Person-Pass-1").bodyText }
}

extension SimulatorResponse {
    var json: JSONValue? { try? JSONParser.parse(body) }

    var messages: [String] { json?.arrayValue?.compactMap { $0["message"]?.stringValue } ?? [] }

    var jsonArray: [JSONValue] { json?.arrayValue ?? [] }
}
