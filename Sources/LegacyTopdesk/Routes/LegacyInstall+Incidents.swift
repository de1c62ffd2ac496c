/// `/tas/api/incidents...`: one incident by id or number, `PUT`, `POST`, and the sub-resources.
extension LegacyInstall {
    mutating func routeIncidents(_ call: APICall) -> SimulatorResponse {
        let path = call.path
        if path.count == 1 {
            switch call.method {
            case "GET": return listIncidents(call)
            case "POST": return createIncident(call)
            default: return methodNotAllowed(["GET", "POST"])
            }
        }
        if path.count == 2 {
            guard TopdeskDatabase.lookupListNames.contains(path[1]) else { return notFound() }
            guard call.method == "GET" else { return methodNotAllowed(["GET"]) }
            return lookupList(path[1], call)
        }
        guard path[1] == "id" || path[1] == "number" else { return notFound() }
        let index: Int
        switch resolveIncident(byNumber: path[1] == "number", path[2], for: call.principal) {
        case .success(let found): index = found
        case .failure(let refusal): return refusal.response
        }
        if path.count == 3 {
            switch call.method {
            case "GET": return .json(200, bytes: incidentJSON[index])
            case "PUT": return updateIncident(at: index, call)
            default: return methodNotAllowed(["GET", "PUT"])
            }
        }
        return routeIncidentChildren(of: index, call)
    }

    static func isUUID(_ text: String) -> Bool {
        let utf8 = Array(text.utf8)
        guard utf8.count == 36 else { return false }
        for (position, byte) in utf8.enumerated() {
            if position == 8 || position == 13 || position == 18 || position == 23 {
                guard byte == UInt8(ascii: "-") else { return false }
            } else {
                let isHex = (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x66)
                guard isHex else { return false }
            }
        }
        return true
    }

    /// The incident named in the path. A person only finds incidents it is the caller of; others
    /// answer 404 as if they did not exist.
    func resolveIncident(byNumber: Bool, _ key: String, for principal: Principal)
        -> Result<Int, SimulatorResponseError>
    {
        let found: Int?
        if byNumber {
            found = incidentIndexByNumber[Self.numberKey(key)]
        } else {
            guard Self.isUUID(key) else {
                return .failure(SimulatorResponseError(.error(400, "Invalid id: \(key)")))
            }
            found = incidentIndexById[Self.key(key)]
        }
        guard let index = found, isVisible(database.incidents[index], to: principal) else {
            return .failure(SimulatorResponseError(.error(404, "Incident not found")))
        }
        return .success(index)
    }

    func isVisible(_ incident: Incident, to principal: Principal) -> Bool {
        switch principal.kind {
        case .operator: return true
        case .person: return incident.callerId.map(Self.key) == Self.key(principal.subjectId)
        }
    }

    /// Fields a person may send; everything else is an operator's business.
    static let personWritableFields: Set<String> = [
        "briefDescription", "request", "action", "callType", "entryType", "category", "subcategory", "impact",
        "urgency",
    ]

    mutating func updateIncident(at index: Int, _ call: APICall) -> SimulatorResponse {
        guard case .success(let body) = parseJSONBody(call.request), body.objectMembers != nil else {
            return .error(400, "The body must be a JSON object")
        }
        var incident = database.incidents[index]
        let previousMain = incident.mainIncidentId
        if let refusal = applyIncidentFields(body, to: &incident, creating: false, call) { return refusal.response }
        incident.modificationDate = call.now
        if call.isOperator { incident.modifierId = call.principal.subjectId }
        store(incident, at: index, previousMain: previousMain)
        return .json(200, bytes: incidentJSON[index])
    }

    mutating func createIncident(_ call: APICall) -> SimulatorResponse {
        guard case .success(let body) = parseJSONBody(call.request), body.objectMembers != nil else {
            return .error(400, "The body must be a JSON object")
        }
        var incident = Incident(
            id: makeID(), number: nextIncidentNumber(call.now), status: .firstLine, archived: false,
            briefDescription: "", request: "", requestEncoding: nil, externalNumber: "", callerId: nil, callerName: nil,
            operatorId: nil, operatorGroupId: nil, categoryId: nil, subcategoryId: nil, callTypeId: nil,
            entryTypeId: nil, impactId: nil, urgencyId: nil, priorityId: nil, durationId: nil,
            processingStatusId: database.lookups["statuses"]?.first?.id, closureCodeId: nil, onHold: false,
            completed: false, completedDate: nil, closed: false, closedDate: nil, callDate: call.now,
            creationDate: call.now, modificationDate: call.now, targetDate: nil, mainIncidentId: nil,
            creatorId: call.isOperator ? call.principal.subjectId : nil,
            modifierId: call.isOperator ? call.principal.subjectId : nil, actions: [], requests: [], attachments: [])
        if call.principal.kind == .person { incident.callerId = call.principal.subjectId }
        if let refusal = applyIncidentFields(body, to: &incident, creating: true, call) { return refusal.response }
        if call.isOperator, incident.callerId == nil, incident.callerName == nil {
            return .error(400, "A caller is required: callerLookup or caller")
        }
        if incident.status == .partial, incident.mainIncidentId == nil {
            return .error(400, "A partial incident needs a mainIncident")
        }
        database.incidents.append(incident)
        let index = database.incidents.count - 1
        incidentIndexById[Self.key(incident.id)] = index
        incidentIndexByNumber[Self.numberKey(incident.number)] = index
        incidentJSON.append([])
        store(incident, at: index, previousMain: nil)
        return .json(201, bytes: incidentJSON[index])
    }

    /// Saves an incident and re-encodes it, and its main incidents when the link changed.
    mutating func store(_ incident: Incident, at index: Int, previousMain: String?) {
        database.incidents[index] = incident
        if previousMain.map(Self.key) != incident.mainIncidentId.map(Self.key) {
            if let previousMain { partialIndexesByMain[Self.key(previousMain)]?.removeAll { $0 == index } }
            if let main = incident.mainIncidentId { partialIndexesByMain[Self.key(main), default: []].append(index) }
            for main in [previousMain, incident.mainIncidentId].compactMap({ $0 }) {
                if let mainIndex = incidentIndexById[Self.key(main)] {
                    incidentJSON[mainIndex] = encodeIncident(database.incidents[mainIndex]).bytes
                }
            }
        }
        incidentJSON[index] = encodeIncident(incident).bytes
    }

    /// `I 1702 003`: the creation year and month, then a sequence within that month.
    func nextIncidentNumber(_ now: TopdeskDate) -> String {
        let parts = now.components
        let prefix = "I " + String(parts.year % 100).leftPadded(2) + String(parts.month).leftPadded(2) + " "
        var sequence = 1
        while incidentIndexByNumber[Self.numberKey(prefix + String(sequence).leftPadded(3))] != nil { sequence += 1 }
        return prefix + String(sequence).leftPadded(3)
    }

    /// Applies the members of a `PUT` or `POST` body. Answers the refusal, or nil when all applied.
    func applyIncidentFields(_ body: JSONValue, to incident: inout Incident, creating: Bool, _ call: APICall)
        -> SimulatorResponseError?
    {
        let members = body.objectMembers ?? []
        func fail(_ status: Int, _ message: String) -> SimulatorResponseError {
            SimulatorResponseError(.error(status, message))
        }
        if call.principal.kind == .person,
            let field = members.first(where: { !Self.personWritableFields.contains($0.key) })
        {
            return fail(403, "A person may not set \(field.key)")
        }
        var actionInvisible = false
        var pendingAction: String?
        var groupChanged = false
        for member in members {
            let value = member.value
            switch member.key {
            case "briefDescription", "externalNumber":
                guard let text = value.stringValue else { return fail(400, "\(member.key) must be a string") }
                let limit = member.key == "briefDescription" ? 80 : 60
                guard text.count <= limit else { return fail(400, "\(member.key) is longer than \(limit) characters") }
                if member.key == "briefDescription" {
                    incident.briefDescription = text
                } else {
                    incident.externalNumber = text
                }
            case "request":
                guard let text = value.stringValue else { return fail(400, "request must be a string") }
                let memo = Memo(id: makeID(), text: text, entryDate: call.now,
                                operatorId: call.isOperator ? call.principal.subjectId : nil,
                                personId: call.isOperator ? nil : call.principal.subjectId, invisibleForCaller: false)
                incident.requests.insert(memo, at: 0)
                incident.request = creating || incident.request.isEmpty ? text : text + "\n\n" + incident.request
                incident.requestEncoding = nil
            case "action":
                guard let text = value.stringValue else { return fail(400, "action must be a string") }
                pendingAction = text
            case "actionInvisibleForCaller":
                guard let flag = value.boolValue else { return fail(400, "actionInvisibleForCaller must be a boolean") }
                actionInvisible = flag
            case "status":
                // Case-sensitive, as on a real install: "FirstLine" is refused.
                guard let text = value.stringValue, let status = IncidentStatus(rawValue: text) else {
                    return fail(400, "Invalid status: \(value.stringValue ?? "not a string")")
                }
                incident.status = status
            case "callerLookup":
                switch lookupCaller(value) {
                case .success(let id):
                    incident.callerId = id
                    incident.callerName = nil
                case .failure(let refusal): return refusal
                }
            case "caller":
                guard let name = value["dynamicName"]?.stringValue, !name.isEmpty, name.count <= 109 else {
                    return fail(400, "caller.dynamicName must be a string of 1 to 109 characters")
                }
                incident.callerId = nil
                incident.callerName = name
            case "operator":
                guard let id = value["id"]?.stringValue else { return fail(400, "operator needs an id") }
                guard let found = operatorRecord(id) else { return fail(404, "Operator not found: \(id)") }
                incident.operatorId = found.id
                groupChanged = true
            case "operatorGroup":
                guard let id = value["id"]?.stringValue else { return fail(400, "operatorGroup needs an id") }
                guard let found = group(id) else { return fail(404, "Operator group not found: \(id)") }
                incident.operatorGroupId = found.id
                groupChanged = true
            case "mainIncident":
                let target = value["id"]?.stringValue.flatMap { incidentIndexById[Self.key($0)] }
                    ?? value["number"]?.stringValue.flatMap { incidentIndexByNumber[Self.numberKey($0)] }
                guard let mainIndex = target else { return fail(404, "Main incident not found") }
                incident.mainIncidentId = database.incidents[mainIndex].id
            case "completed", "closed", "onHold":
                guard let flag = value.boolValue else { return fail(400, "\(member.key) must be a boolean") }
                setFlag(member.key, flag, on: &incident, now: call.now)
            case "targetDate":
                guard let text = value.stringValue, let date = TopdeskDate(parsing: text) else {
                    return fail(400, "targetDate must be a date")
                }
                incident.targetDate = date
            default:
                if let list = Self.referenceFields[member.key] {
                    switch lookupReference(list, value, field: member.key) {
                    case .success(let id): setReference(member.key, id, on: &incident)
                    case .failure(let refusal): return refusal
                    }
                }
                // Other members (and read-only ones such as "number") are ignored, as an old install does.
            }
        }
        if groupChanged, let operatorId = incident.operatorId, let groupId = incident.operatorGroupId,
            let handler = operatorRecord(operatorId),
            !handler.operatorGroupIds.contains(where: { Self.key($0) == Self.key(groupId) })
        {
            return fail(400, "Operator \(handler.dynamicName) is not a member of the operator group")
        }
        if let subcategory = incident.subcategoryId, let entry = lookupById["subcategories"]?[Self.key(subcategory)],
            let category = incident.categoryId, let parent = entry.categoryId, Self.key(parent) != Self.key(category)
        {
            return fail(400, "The subcategory does not belong to the category")
        }
        if let pendingAction {
            let memo = Memo(id: makeID(), text: pendingAction, entryDate: call.now,
                            operatorId: call.isOperator ? call.principal.subjectId : nil,
                            personId: call.isOperator ? nil : call.principal.subjectId,
                            invisibleForCaller: call.isOperator && actionInvisible)
            incident.actions.insert(memo, at: 0)
        }
        return nil
    }

    private func setFlag(_ name: String, _ flag: Bool, on incident: inout Incident, now: TopdeskDate) {
        switch name {
        case "completed":
            incident.completed = flag
            incident.completedDate = flag ? (incident.completedDate ?? now) : nil
            if !flag {
                incident.closed = false
                incident.closedDate = nil
            }
        case "closed":
            incident.closed = flag
            incident.closedDate = flag ? (incident.closedDate ?? now) : nil
            if flag {
                incident.completed = true
                incident.completedDate = incident.completedDate ?? now
            }
        default:
            incident.onHold = flag
        }
    }

    /// Request field name to lookup list name.
    static let referenceFields: [String: String] = [
        "category": "categories", "subcategory": "subcategories", "callType": "call_types",
        "entryType": "entry_types", "impact": "impacts", "urgency": "urgencies", "priority": "priorities",
        "duration": "durations", "processingStatus": "statuses", "closureCode": "closure_codes",
    ]

    private func setReference(_ field: String, _ id: String, on incident: inout Incident) {
        switch field {
        case "category": incident.categoryId = id
        case "subcategory": incident.subcategoryId = id
        case "callType": incident.callTypeId = id
        case "entryType": incident.entryTypeId = id
        case "impact": incident.impactId = id
        case "urgency": incident.urgencyId = id
        case "priority": incident.priorityId = id
        case "duration": incident.durationId = id
        case "processingStatus": incident.processingStatusId = id
        default: incident.closureCodeId = id
        }
    }

    /// `{"id": ...}` or `{"name": ...}` of a lookup list entry.
    func lookupReference(_ list: String, _ value: JSONValue, field: String) -> Result<String, SimulatorResponseError> {
        if let id = value["id"]?.stringValue {
            guard let entry = lookupById[list]?[Self.key(id)] else {
                return .failure(SimulatorResponseError(.error(404, "\(field) not found: \(id)")))
            }
            return .success(entry.id)
        }
        if let name = value["name"]?.stringValue {
            guard let entry = database.lookups[list]?.first(where: { $0.name.lowercased() == name.lowercased() }) else {
                return .failure(SimulatorResponseError(.error(400, "Unknown \(field) name: \(name)")))
            }
            return .success(entry.id)
        }
        return .failure(SimulatorResponseError(.error(400, "\(field) needs an id or a name")))
    }

    /// `callerLookup` must have exactly one key naming how to find the person.
    func lookupCaller(_ value: JSONValue) -> Result<String, SimulatorResponseError> {
        guard let members = value.objectMembers, members.count == 1, let key = members.first?.key,
            let wanted = members.first?.value.stringValue
        else {
            return .failure(SimulatorResponseError(.error(400, "callerLookup must have exactly one key")))
        }
        let match: (Person) -> Bool
        switch key {
        case "id": match = { Self.key($0.id) == Self.key(wanted) }
        case "email": match = { $0.email.lowercased() == wanted.lowercased() }
        case "employeeNumber": match = { $0.employeeNumber == wanted }
        case "networkLoginName", "loginName": match = { $0.networkLoginName.lowercased() == wanted.lowercased() }
        default: return .failure(SimulatorResponseError(.error(400, "Unknown callerLookup key: \(key)")))
        }
        guard let found = database.persons.first(where: match) else {
            return .failure(SimulatorResponseError(.error(404, "Caller not found")))
        }
        return .success(found.id)
    }
}
