import Foundation
import HTTP1

/// The whole mutable state of one simulated install - data, indexes, encoded incidents, sessions,
/// counters, faults - and the routes that read and change it.
///
/// A plain value with no locking of its own: `LegacyTopdeskSimulator` keeps it in a `Mutex` and
/// calls `handle` with the lock held. Routes therefore decide and answer at once; the per-incident
/// JSON is encoded when an incident changes, so the frequent reads only copy a reference.
struct LegacyInstall: Sendable {
    var settings: SimulatorSettings
    var database: TopdeskDatabase
    var tokens: TokenRegistry
    var statistics = SimulatorStatistics()
    var faults = FaultSettings()
    /// The last request seen on the API listener, as received.
    var lastRequest: SimulatorRequest?

    // Indexes: lower-cased ids (ids compare case-insensitively), upper-cased numbers and logins.
    var personIndexById: [String: Int] = [:]
    var operatorIndexById: [String: Int] = [:]
    var groupIndexById: [String: Int] = [:]
    var accountIndexByLogin: [String: Int] = [:]
    var lookupById: [String: [String: LookupEntry]] = [:]
    var branchById: [String: LookupEntry] = [:]
    var incidentIndexById: [String: Int] = [:]
    var incidentIndexByNumber: [String: Int] = [:]
    /// Partial incidents by the key of their main incident.
    var partialIndexesByMain: [String: [Int]] = [:]
    var templateIndexByKey: [String: Int] = [:]
    var changeIndexByKey: [String: Int] = [:]
    /// `incidentJSON[i]` is the serialized `database.incidents[i]`.
    var incidentJSON: [[UInt8]] = []
    /// Source of new ids for created records.
    var makeID: @Sendable () -> String

    init(settings: SimulatorSettings, database: TopdeskDatabase, makeID: @escaping @Sendable () -> String) {
        self.settings = settings
        self.database = database
        self.makeID = makeID
        tokens = TokenRegistry(lifetime: settings.tokenLifetime, idleTimeout: settings.tokenIdleTimeout,
                               makeToken: makeID)
        rebuildIndexes()
    }

    static func key(_ id: String) -> String { id.lowercased() }
    static func numberKey(_ number: String) -> String { number.uppercased() }

    mutating func rebuildIndexes() {
        personIndexById = Dictionary(database.persons.enumerated().map { (Self.key($1.id), $0) }) { first, _ in first }
        operatorIndexById = Dictionary(database.operators.enumerated().map { (Self.key($1.id), $0) }) { a, _ in a }
        groupIndexById = Dictionary(database.operatorGroups.enumerated().map { (Self.key($1.id), $0) }) { a, _ in a }
        accountIndexByLogin = Dictionary(database.accounts.enumerated().map { (Self.numberKey($1.login), $0) }) {
            first, _ in first
        }
        lookupById = database.lookups.mapValues { entries in
            Dictionary(entries.map { (Self.key($0.id), $0) }) { first, _ in first }
        }
        branchById = Dictionary(database.branches.map { (Self.key($0.id), $0) }) { first, _ in first }
        incidentIndexById = [:]
        incidentIndexByNumber = [:]
        partialIndexesByMain = [:]
        for (index, incident) in database.incidents.enumerated() {
            incidentIndexById[Self.key(incident.id)] = index
            incidentIndexByNumber[Self.numberKey(incident.number)] = index
            if let main = incident.mainIncidentId { partialIndexesByMain[Self.key(main), default: []].append(index) }
        }
        templateIndexByKey = [:]
        for (index, template) in database.changeTemplates.enumerated() {
            templateIndexByKey[Self.key(template.id)] = index
            templateIndexByKey[Self.numberKey(template.number)] = index
        }
        changeIndexByKey = [:]
        for (index, change) in database.changes.enumerated() {
            changeIndexByKey[Self.key(change.id)] = index
            changeIndexByKey[Self.numberKey(change.number)] = index
        }
        incidentJSON = database.incidents.map { encodeIncident($0).bytes }
    }

    // MARK: - Dispatch

    /// Answers one API-listener request. `now` drives token expiry and the dates of new records.
    /// `target` is `request.target` parsed, which the caller does before taking the lock.
    mutating func handle(_ request: SimulatorRequest, target: RequestTarget, now: TopdeskDate) -> SimulatorResponse {
        statistics.requests += 1
        lastRequest = request
        let segments = target.segments
        guard segments.count >= 2, segments[0] == "tas", segments[1] == "api" else {
            return webPage(for: segments)
        }
        let path = Array(segments.dropFirst(2))
        guard let resource = path.first else { return notFound() }

        switch resource {
        case "login":
            guard path.count == 2, let kind = Account.Kind(rawValue: path[1]) else { return notFound() }
            guard request.method == "GET" else { return methodNotAllowed(["GET"]) }
            return login(kind: kind, request: request, now: now)
        case "version":
            guard path.count == 1 else { return notFound() }
            guard request.method == "GET" else { return methodNotAllowed(["GET"]) }
            return .json(200, .object(["version": .string(settings.version)]))
        case "logout":
            guard path.count == 1 else { return notFound() }
            guard request.method == "GET" else { return methodNotAllowed(["GET"]) }
            return logout(request: request, now: now)
        default:
            break
        }

        let principal: Principal
        switch authenticate(request.headers, now: now) {
        case .success(let authenticated): principal = authenticated
        case .failure(let refusal): return refusal.response
        }
        let call = APICall(method: request.method, path: path, target: target, request: request, principal: principal,
                           now: now)
        switch resource {
        case "incidents": return routeIncidents(call)
        case "persons", "operators", "operatorgroups": return routePeople(call)
        case "applicableChangeTemplates", "operatorChanges": return routeChanges(call)
        default: return notFound()
        }
    }

    // MARK: - Shared answers

    func notFound(_ message: String = "Not found") -> SimulatorResponse {
        .error(404, message)
    }

    func methodNotAllowed(_ allowed: [String]) -> SimulatorResponse {
        var response = SimulatorResponse.error(405, "Method not allowed")
        response.headers.add(name: "Allow", value: allowed.joined(separator: ", "))
        return response
    }

    func operatorsOnly() -> SimulatorResponse {
        .error(403, "This call is only available to operators")
    }

    /// Reads a JSON request body; nil plus the answer to send when it is not JSON.
    func parseJSONBody(_ request: SimulatorRequest) -> Result<JSONValue, SimulatorResponseError> {
        do {
            return .success(try JSONParser.parse(request.body))
        } catch {
            return .failure(SimulatorResponseError(.error(400, error.description)))
        }
    }

    /// `{id, name}` of a lookup entry, or `null`.
    func reference(_ list: String, _ id: String?) -> JSONValue {
        guard let id, let entry = lookupById[list]?[Self.key(id)] else { return .null }
        return .object(["id": .string(entry.id), "name": .string(entry.name)])
    }

    func person(_ id: String?) -> Person? {
        guard let id, let index = personIndexById[Self.key(id)] else { return nil }
        return database.persons[index]
    }

    func operatorRecord(_ id: String?) -> Operator? {
        guard let id, let index = operatorIndexById[Self.key(id)] else { return nil }
        return database.operators[index]
    }

    func group(_ id: String?) -> OperatorGroup? {
        guard let id, let index = groupIndexById[Self.key(id)] else { return nil }
        return database.operatorGroups[index]
    }

    /// `{id, name}` of an operator, or of a person, or `null`.
    func operatorReference(_ id: String?) -> JSONValue {
        guard let record = operatorRecord(id) else { return .null }
        return .object(["id": .string(record.id), "name": .string(record.dynamicName)])
    }

    func personReference(_ id: String?) -> JSONValue {
        guard let record = person(id) else { return .null }
        return .object(["id": .string(record.id), "name": .string(record.dynamicName)])
    }

    // MARK: - Pages

    /// `start` and `page_size` of a list request, or the 400 to answer.
    func paging(_ target: RequestTarget, defaultSize: Int = 10) -> Result<Range<Int>, SimulatorResponseError> {
        var start = 0
        var size = defaultSize
        if let text = target.value("start") {
            guard let value = Int(text), value >= 0 else {
                return .failure(SimulatorResponseError(.error(400, "start must be a number of 0 or more")))
            }
            start = value
        }
        if let text = target.value("page_size") {
            guard let value = Int(text), value >= 1 else {
                return .failure(SimulatorResponseError(.error(400, "page_size must be a number of 1 or more")))
            }
            if value > settings.maximumPageSize {
                guard !settings.rejectOversizedPage else {
                    return .failure(SimulatorResponseError(
                        .error(400, "page_size must not be larger than \(settings.maximumPageSize)")))
                }
                size = settings.maximumPageSize
            } else {
                size = value
            }
        }
        // A start near Int.max (a client's `start=9223372036854775807`) must not overflow the
        // window's end: clamp it; nothing lies that far anyway, so the answer is a 204.
        let (end, overflowed) = start.addingReportingOverflow(size)
        return .success(start..<(overflowed ? Int.max : end))
    }

    /// The old paging rule: 204 with no body when nothing is at `start`; 206 when more items follow
    /// this page; 200 when this page is the last one.
    func pagedResponse(total: Int, window: Range<Int>, element: (Int) -> [UInt8]) -> SimulatorResponse {
        guard window.lowerBound < total else { return .empty(204) }
        let upper = min(window.upperBound, total)
        var body: [UInt8] = [UInt8(ascii: "[")]
        for position in window.lowerBound..<upper {
            if position > window.lowerBound { body.append(UInt8(ascii: ",")) }
            body.append(contentsOf: element(position))
        }
        body.append(UInt8(ascii: "]"))
        return .json(upper < total ? 206 : 200, bytes: body)
    }

    func pagedResponse(_ values: [JSONValue], target: RequestTarget) -> SimulatorResponse {
        switch paging(target) {
        case .failure(let refusal): return refusal.response
        case .success(let window): return pagedResponse(total: values.count, window: window) { values[$0].bytes }
        }
    }
}

/// One authenticated API call, as the routes see it.
struct APICall {
    var method: String
    /// Segments after `/tas/api`.
    var path: [String]
    var target: RequestTarget
    var request: SimulatorRequest
    var principal: Principal
    var now: TopdeskDate

    var isOperator: Bool { principal.kind == .operator }
}

/// A response used as an error value, so helpers can `return .failure(...)` an answer.
struct SimulatorResponseError: Error {
    var response: SimulatorResponse

    init(_ response: SimulatorResponse) {
        self.response = response
    }
}
