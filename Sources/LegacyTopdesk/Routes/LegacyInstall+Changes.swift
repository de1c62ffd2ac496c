/// `GET /tas/api/applicableChangeTemplates`, `POST /tas/api/operatorChanges` from a template,
/// `GET` and `PATCH` (JSON Patch) of `/tas/api/operatorChanges/{id or number}`.
extension LegacyInstall {
    mutating func routeChanges(_ call: APICall) -> SimulatorResponse {
        guard call.isOperator else { return operatorsOnly() }
        let path = call.path
        switch (path[0], path.count) {
        case ("applicableChangeTemplates", 1):
            guard call.method == "GET" else { return methodNotAllowed(["GET"]) }
            let results = database.changeTemplates.map { template -> JSONValue in
                .object([
                    "id": .string(template.id), "number": .string(template.number),
                    "briefDescription": .string(template.briefDescription),
                ])
            }
            return .json(200, .object(["results": .array(results)]))
        case ("operatorChanges", 1):
            guard call.method == "POST" else { return methodNotAllowed(["POST"]) }
            return createChange(call)
        case ("operatorChanges", 2):
            guard let index = changeIndexByKey[Self.key(path[1])] ?? changeIndexByKey[Self.numberKey(path[1])] else {
                return .error(404, "Change not found")
            }
            switch call.method {
            case "GET": return .json(200, changeJSON(database.changes[index]))
            case "PATCH": return patchChange(at: index, call)
            default: return methodNotAllowed(["GET", "PATCH"])
            }
        default:
            return notFound()
        }
    }

    mutating func createChange(_ call: APICall) -> SimulatorResponse {
        guard case .success(let body) = parseJSONBody(call.request), body.objectMembers != nil else {
            return .error(400, "The body must be a JSON object")
        }
        guard let requesterId = body["requester"]?["id"]?.stringValue else {
            return .error(400, "requester.id is required")
        }
        guard let requester = person(requesterId) else { return .error(404, "Requester not found: \(requesterId)") }

        var template: ChangeTemplate?
        if let reference = body["template"] {
            guard let key = reference["id"]?.stringValue ?? reference["number"]?.stringValue else {
                return .error(400, "template needs an id or a number")
            }
            guard let index = templateIndexByKey[Self.key(key)] ?? templateIndexByKey[Self.numberKey(key)] else {
                return .error(404, "Change template not found: \(key)")
            }
            template = database.changeTemplates[index]
        }
        let changeType: ChangeType
        if let template {
            changeType = template.changeType
        } else {
            guard let text = body["changeType"]?.stringValue, let type = ChangeType(rawValue: text) else {
                return .error(400, "Without a template, changeType must be \"simple\" or \"extensive\"")
            }
            changeType = type
        }

        let briefDescription = body["briefDescription"]?.stringValue ?? template?.briefDescription ?? ""
        guard briefDescription.count <= 80 else { return .error(400, "briefDescription is longer than 80 characters") }
        let chosen: [ChangeTemplate.Activity]
        switch chooseActivities(template, body["template"]?["optionalActivities"]) {
        case .success(let activities): chosen = activities
        case .failure(let refusal): return refusal.response
        }

        let number = nextChangeNumber(call.now)
        let activities = chosen.enumerated().map { position, activity in
            Change.Activity(id: makeID(), number: "\(number)/\(String(position + 1).leftPadded(2))",
                            briefDescription: activity.briefDescription, templateActivityId: activity.id,
                            optional: activity.optional)
        }
        let change = Change(
            id: makeID(), number: number, requesterId: requester.id, briefDescription: briefDescription,
            request: body["request"]?.stringValue ?? template?.request ?? "", changeType: changeType,
            templateId: template?.id ?? "", approved: template?.autoApprove ?? false, creationDate: call.now,
            modificationDate: call.now, externalNumber: body["externalNumber"]?.stringValue ?? "",
            activities: activities)
        database.changes.append(change)
        changeIndexByKey[Self.key(change.id)] = database.changes.count - 1
        changeIndexByKey[Self.numberKey(change.number)] = database.changes.count - 1
        return .json(201, .object([
            "id": .string(change.id), "number": .string(change.number),
            "requester": .object(["id": .string(requester.id), "name": .string(requester.dynamicName)]),
            "briefDescription": .string(change.briefDescription), "changeType": .string(change.changeType.rawValue),
        ]))
    }

    /// Mandatory activities always; optional ones: all when the list is absent, none when it is
    /// empty, else those named by number (`OA 0078`) or id, as strings or `{"id"}`/`{"number"}`.
    func chooseActivities(_ template: ChangeTemplate?, _ requested: JSONValue?)
        -> Result<[ChangeTemplate.Activity], SimulatorResponseError>
    {
        guard let template else {
            if let requested, !(requested.arrayValue?.isEmpty ?? false) {
                return .failure(SimulatorResponseError(.error(400, "optionalActivities need a template")))
            }
            return .success([])
        }
        guard let requested, !requested.isNull else { return .success(template.activities) }
        guard let names = requested.arrayValue else {
            return .failure(SimulatorResponseError(.error(400, "optionalActivities must be an array")))
        }
        if template.changeType == .simple, !names.isEmpty {
            return .failure(SimulatorResponseError(.error(400, "A simple change has no activities")))
        }
        var wanted: Set<String> = []
        for name in names {
            guard let key = name.stringValue ?? name["id"]?.stringValue ?? name["number"]?.stringValue,
                let activity = template.activities.first(where: {
                    $0.optional
                        && (Self.key($0.id) == Self.key(key) || Self.numberKey($0.number) == Self.numberKey(key))
                })
            else {
                return .failure(SimulatorResponseError(
                    .error(400, "Not an optional activity of \(template.number): \(name.stringValue ?? "?")")))
            }
            wanted.insert(activity.id)
        }
        return .success(template.activities.filter { !$0.optional || wanted.contains($0.id) })
    }

    func nextChangeNumber(_ now: TopdeskDate) -> String {
        let parts = now.components
        let prefix = "CH " + String(parts.year % 100).leftPadded(2) + String(parts.month).leftPadded(2) + " "
        var sequence = 1
        while changeIndexByKey[Self.numberKey(prefix + String(sequence).leftPadded(3))] != nil { sequence += 1 }
        return prefix + String(sequence).leftPadded(3)
    }

    func changeJSON(_ change: Change) -> JSONValue {
        let template = templateIndexByKey[Self.key(change.templateId)].map { database.changeTemplates[$0] }
        return .object([
            "id": .string(change.id), "number": .string(change.number),
            "requester": personReference(change.requesterId), "briefDescription": .string(change.briefDescription),
            "request": .string(change.request), "changeType": .string(change.changeType.rawValue),
            "externalNumber": .string(change.externalNumber),
            "template": template.map { .object(["id": .string($0.id), "number": .string($0.number)]) } ?? .null,
            "currentPhase": .string(change.approved ? "progress" : "rfc"), "approved": .bool(change.approved),
            "creationDate": Self.date(change.creationDate), "modificationDate": Self.date(change.modificationDate),
            "activities": .array(change.activities.map { activity in
                let source = template?.activities.first { $0.id == activity.templateActivityId }
                return .object([
                    "id": .string(activity.id), "number": .string(activity.number),
                    "briefDescription": .string(activity.briefDescription), "optional": .bool(activity.optional),
                    "templateActivity": source.map { .object(["id": .string($0.id), "number": .string($0.number)]) }
                        ?? .null,
                ])
            }),
        ])
    }

    /// The part of a change a JSON Patch may touch.
    func patchableDocument(_ change: Change) -> JSONValue {
        .object([
            "briefDescription": .string(change.briefDescription), "request": .string(change.request),
            "externalNumber": .string(change.externalNumber), "requester": .object(["id": .string(change.requesterId)]),
        ])
    }

    mutating func patchChange(at index: Int, _ call: APICall) -> SimulatorResponse {
        let contentType = call.request.headers.first(name: "Content-Type") ?? ""
        guard contentType.split(separator: ";").first?.trimmingOptionalWhitespace()
            .equalsIgnoringASCIICase("application/json-patch+json") == true
        else {
            return .error(415, "PATCH needs Content-Type application/json-patch+json")
        }
        guard case .success(let patch) = parseJSONBody(call.request) else { return .error(400, "Invalid JSON Patch") }
        var change = database.changes[index]
        let patched: JSONValue
        do {
            patched = try JSONPatch.apply(patch, to: patchableDocument(change))
        } catch {
            return .error(400, error.message)
        }
        let members = patched.objectMembers ?? []
        for required in ["briefDescription", "request", "externalNumber", "requester"]
        where !members.contains(where: { $0.key == required }) {
            return .error(400, "\(required) cannot be removed")
        }
        for member in members {
            switch member.key {
            case "briefDescription", "request", "externalNumber":
                guard let text = member.value.stringValue else { return .error(400, "\(member.key) must be a string") }
                let limits = ["briefDescription": 80, "externalNumber": 60]
                if let limit = limits[member.key], text.count > limit {
                    return .error(400, "\(member.key) is longer than \(limit) characters")
                }
                switch member.key {
                case "briefDescription": change.briefDescription = text
                case "request": change.request = text
                default: change.externalNumber = text
                }
            case "requester":
                guard let id = member.value["id"]?.stringValue else { return .error(400, "requester needs an id") }
                guard let found = person(id) else { return .error(404, "Requester not found: \(id)") }
                change.requesterId = found.id
            default:
                return .error(400, "\(member.key) cannot be changed")
            }
        }
        change.modificationDate = call.now
        database.changes[index] = change
        return .json(200, changeJSON(change))
    }
}
