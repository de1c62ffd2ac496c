import Foundation
import HTTP1
import Synchronization

/// A simulated pre-November-2017 TOPdesk install, without sockets: requests in, responses out.
///
/// Shared by every event loop. All state sits behind one `Mutex`, held for one decision per
/// request: the frequent reads (an incident by number, a token check) are dictionary look-ups that
/// hand back bytes encoded when the incident last changed, so the lock is held for microseconds.
/// Faults (latency, dropped connections) are decided here and carried out by the socket layer.
public final class LegacyTopdeskSimulator: Sendable {
    public let settings: SimulatorSettings
    private let state: Mutex<LegacyInstall>
    private let clock: @Sendable () -> TopdeskDate
    private let random: @Sendable () -> Double

    /// - Parameters:
    ///   - clock: the current time; tests pass a manual clock to expire tokens without sleeping.
    ///   - random: uniform in 0..<1, for the fault rates.
    ///   - makeID: new tokens and record ids (lower-case UUIDs by default).
    public init(settings: SimulatorSettings = SimulatorSettings(), database: TopdeskDatabase = .demo,
                clock: @escaping @Sendable () -> TopdeskDate = LegacyTopdeskSimulator.systemClock,
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
                makeID: @escaping @Sendable () -> String = { UUID().uuidString.lowercased() }) {
        self.settings = settings
        self.clock = clock
        self.random = random
        state = Mutex(LegacyInstall(settings: settings, database: database, makeID: makeID))
    }

    public static let systemClock: @Sendable () -> TopdeskDate = {
        TopdeskDate(secondsSince1970: Date().timeIntervalSince1970)
    }

    // MARK: - API listener

    /// Answers a request to the API listener, with the faults currently set.
    public func handleAPI(_ request: SimulatorRequest) -> SimulatorOutcome {
        let now = clock()
        let random = self.random
        let target = RequestTarget(request.target)
        let (answer, faults) = state.withLock { install -> (SimulatorResponse, FaultSettings) in
            let faults = install.faults
            if faults.status500Rate > 0, random() < faults.status500Rate {
                install.statistics.requests += 1
                install.lastRequest = request
                return (.error(500, "Internal server error"), faults)
            }
            return (install.handle(request, target: target, now: now), faults)
        }
        var response = answer
        if response.status == 401, settings.html401 || faults.html401 {
            response = .text(401, LegacyInstall.html401Page, contentType: "text/html;charset=utf-8")
        }
        let drop = faults.dropRate > 0 && !response.body.isEmpty && random() < faults.dropRate
        return SimulatorOutcome(response: response, delay: .milliseconds(faults.latencyMilliseconds),
                                dropMidResponse: drop)
    }

    /// The API answer alone, faults ignored apart from 500s and HTML 401s.
    public func handle(_ request: SimulatorRequest) -> SimulatorResponse {
        handleAPI(request).response
    }

    // MARK: - Control listener

    /// `GET /stats`, `POST /restart`, `GET|POST /faults`, `GET /requests/last`.
    public func handleControl(_ request: SimulatorRequest) -> SimulatorResponse {
        let path = RequestTarget(request.target).segments
        switch (request.method, path) {
        case ("GET", ["stats"]):
            return .json(200, statistics())
        case ("POST", ["restart"]):
            restart()
            return .json(200, .object(["restarted": true]))
        case ("GET", ["faults"]):
            return .json(200, state.withLock { $0.faults.json })
        case ("POST", ["faults"]):
            do {
                let body = request.body.isEmpty ? Array("{}".utf8) : request.body
                let faults = try FaultSettings(json: try JSONParser.parse(body))
                setFaults(faults)
                return .json(200, faults.json)
            } catch let error as FaultSettingsError {
                return .error(400, error.message)
            } catch {
                return .error(400, "\(error)")
            }
        case ("GET", ["requests", "last"]):
            guard let last = lastRequest() else { return .error(404, "No API request received yet") }
            return .json(200, .object([
                "method": .string(last.method), "target": .string(last.target),
                "headers": .array(last.headers.map { .object(["name": .string($0.name), "value": .string($0.value)]) }),
                "bodyBytes": .int(last.body.count),
            ]))
        case (_, ["stats"]), (_, ["restart"]), (_, ["faults"]), (_, ["requests", "last"]):
            return .error(405, "Method not allowed")
        default:
            return .error(404, "Not found")
        }
    }

    /// The `/stats` document.
    public func statistics() -> JSONValue {
        let now = clock().millisecondsSince1970
        return state.withLock { install in
            install.statistics.json(activeTokens: install.tokens.activeCount(now: now))
        }
    }

    /// Drops every token, as restarting the install does.
    public func restart() {
        state.withLock { install in
            install.tokens.revokeAll()
            install.statistics.restarts += 1
        }
    }

    public func setFaults(_ faults: FaultSettings) {
        state.withLock { $0.faults = faults }
    }

    public func lastRequest() -> SimulatorRequest? {
        state.withLock { $0.lastRequest }
    }

    /// A copy of the current data, e.g. to check what a request changed.
    public func databaseSnapshot() -> TopdeskDatabase {
        state.withLock { $0.database }
    }
}
