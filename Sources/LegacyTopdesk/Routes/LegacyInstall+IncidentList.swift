/// `GET /tas/api/incidents` with the old inline filters, `order_by` and the 200/206/204 rule;
/// and the lookup lists under `/tas/api/incidents/<list>`.
extension LegacyInstall {
    /// Date fields that `order_by` and the `<field>_start`/`<field>_end` filters know.
    enum DateField: String, CaseIterable {
        case callDate = "call_date"
        case creationDate = "creation_date"
        case modificationDate = "modification_date"
        case targetDate = "target_date"
        case closedDate = "closed_date"
        case completedDate = "completed_date"

        func value(of incident: Incident) -> TopdeskDate? {
            switch self {
            case .callDate: return incident.callDate
            case .creationDate: return incident.creationDate
            case .modificationDate: return incident.modificationDate
            case .targetDate: return incident.targetDate
            case .closedDate: return incident.closedDate
            case .completedDate: return incident.completedDate
            }
        }
    }

    typealias IncidentFilter = (Incident) -> Bool

    /// The filters of a list request, or the 400 to answer.
    func incidentFilters(_ target: RequestTarget) -> Result<[IncidentFilter], SimulatorResponseError> {
        func fail(_ message: String) -> Result<[IncidentFilter], SimulatorResponseError> {
            .failure(SimulatorResponseError(.error(400, message)))
        }
        var filters: [IncidentFilter] = []
        var archivedWanted: Bool? = false
        for (name, value) in target.query {
            switch name {
            case "start", "page_size", "order_by", "fields":
                continue
            case "query":
                return .failure(SimulatorResponseError(.error(settings.queryParameterStatus,
                                                               "Unknown parameter: query")))
            case "status":
                let wanted = value.split(separator: ",").map(String.init)
                guard wanted.allSatisfy({ IncidentStatus(rawValue: $0) != nil }) else {
                    return fail("Invalid status: \(value)")
                }
                filters.append { wanted.contains($0.status.rawValue) }
            case "completed", "closed", "resolved", "archived", "on_hold":
                guard value == "true" || value == "false" else { return fail("\(name) must be true or false") }
                let flag = value == "true"
                switch name {
                case "completed": filters.append { $0.completed == flag }
                case "closed": filters.append { $0.closed == flag }
                case "resolved": filters.append { ($0.completed || $0.closed) == flag }
                case "on_hold": filters.append { $0.onHold == flag }
                default: archivedWanted = flag
                }
            case "caller", "operator", "operator_group", "processing_status":
                let wanted = Set(value.split(separator: ",").map { Self.key(String($0)) })
                let field: KeyPath<Incident, String?>
                switch name {
                case "caller": field = \.callerId
                case "operator": field = \.operatorId
                case "operator_group": field = \.operatorGroupId
                default: field = \.processingStatusId
                }
                filters.append { incident in incident[keyPath: field].map { wanted.contains(Self.key($0)) } ?? false }
            case "external_number":
                filters.append { $0.externalNumber == value }
            default:
                if let filter = dateFilter(name, value) {
                    switch filter {
                    case .success(let check): filters.append(check)
                    case .failure(let refusal): return .failure(refusal)
                    }
                }
                // Unknown parameters are ignored, as an old install does.
            }
        }
        if let archivedWanted { filters.append { $0.archived == archivedWanted } }
        return .success(filters)
    }

    /// `creation_date_start=2017-01-01` style filters (inclusive days).
    private func dateFilter(_ name: String, _ value: String) -> Result<IncidentFilter, SimulatorResponseError>? {
        let isStart = name.hasSuffix("_start")
        guard isStart || name.hasSuffix("_end") else { return nil }
        let fieldName = String(name.dropLast(isStart ? 6 : 4))
        guard let field = DateField(rawValue: fieldName) else { return nil }
        guard let day = TopdeskDate(parsing: value) else {
            return .failure(SimulatorResponseError(.error(400, "\(name) must be a date (yyyy-MM-dd)")))
        }
        if isStart { return .success { field.value(of: $0).map { $0 >= day } ?? false } }
        let endOfDay = value.count == 10 ? day.adding(seconds: 86_400) : day.adding(seconds: 1)
        return .success { field.value(of: $0).map { $0 < endOfDay } ?? false }
    }

    /// `order_by=creation_date+DESC,call_date` (a `+` arrives as a space; `%2B` as a plus).
    func incidentOrder(_ target: RequestTarget) -> Result<[(DateField, Bool)], SimulatorResponseError> {
        guard let text = target.value("order_by") else { return .success([(.creationDate, false)]) }
        var order: [(DateField, Bool)] = []
        for item in text.split(separator: ",") {
            let words = item.split(whereSeparator: { $0 == " " || $0 == "+" })
            guard let name = words.first, let field = DateField(rawValue: String(name)), words.count <= 2 else {
                return .failure(SimulatorResponseError(.error(400, "Cannot order by \(item)")))
            }
            let direction = words.count == 2 ? words[1].uppercased() : "ASC"
            guard direction == "ASC" || direction == "DESC" else {
                return .failure(SimulatorResponseError(.error(400, "Unknown sort direction \(words[1])")))
            }
            order.append((field, direction == "ASC"))
        }
        return .success(order)
    }

    func listIncidents(_ call: APICall) -> SimulatorResponse {
        let window: Range<Int>
        var filters: [IncidentFilter]
        let order: [(DateField, Bool)]
        switch (paging(call.target), incidentFilters(call.target), incidentOrder(call.target)) {
        case (.failure(let refusal), _, _), (_, .failure(let refusal), _), (_, _, .failure(let refusal)):
            return refusal.response
        case (.success(let pages), .success(let checks), .success(let sorting)):
            (window, filters, order) = (pages, checks, sorting)
        }
        if call.principal.kind == .person {
            let me = Self.key(call.principal.subjectId)
            filters.append { $0.callerId.map(Self.key) == me }
        }
        let incidents = database.incidents
        var selected = incidents.indices.filter { index in filters.allSatisfy { $0(incidents[index]) } }
        selected.sort { left, right in
            for (field, ascending) in order {
                let a = field.value(of: incidents[left]), b = field.value(of: incidents[right])
                if a == b { continue }
                // Absent dates sort last either way.
                guard let a else { return false }
                guard let b else { return true }
                return ascending ? a < b : a > b
            }
            return left > right
        }
        return pagedResponse(total: selected.count, window: window) { incidentJSON[selected[$0]] }
    }

    func lookupList(_ name: String, _ call: APICall) -> SimulatorResponse {
        let entries = database.lookups[name] ?? []
        let values: [JSONValue] = entries.map { entry in
            if name == "subcategories" {
                return .object([
                    "id": .string(entry.id), "name": .string(entry.name),
                    "category": reference("categories", entry.categoryId),
                ])
            }
            return .object(["id": .string(entry.id), "name": .string(entry.name)])
        }
        return .json(200, .array(values))
    }
}
