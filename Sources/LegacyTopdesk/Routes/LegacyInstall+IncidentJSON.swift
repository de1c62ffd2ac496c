/// How incidents, memos and attachments look on the wire (field names after TOPdesk's incident API).
extension LegacyInstall {
    static func incidentLink(_ incident: Incident, _ child: String) -> String {
        "/tas/api/incidents/id/\(incident.id)/\(child)"
    }

    static func date(_ value: TopdeskDate?) -> JSONValue {
        value.map { .string($0.description) } ?? .null
    }

    /// The request text as bytes: UTF-8, or ISO-8859-1 for an incident marked so (characters
    /// outside Latin-1 become `?`), which makes the answer deliberately not valid UTF-8.
    static func requestText(_ incident: Incident) -> JSONValue {
        guard incident.requestEncoding == .latin1 else { return .string(incident.request) }
        return .rawString(incident.request.unicodeScalars.map { $0.value < 256 ? UInt8($0.value) : UInt8(ascii: "?") })
    }

    func callerJSON(_ incident: Incident) -> JSONValue {
        if let caller = person(incident.callerId) {
            let branch = caller.branchId.flatMap { branchById[Self.key($0)] }
            return .object([
                "id": .string(caller.id), "dynamicName": .string(caller.dynamicName), "email": .string(caller.email),
                "mobileNumber": .string(caller.mobileNumber), "phoneNumber": .string(caller.phoneNumber),
                "branch": branch.map { .object(["id": .string($0.id), "name": .string($0.name)]) } ?? .null,
            ])
        }
        guard let name = incident.callerName else { return .null }
        return .object([
            "id": .null, "dynamicName": .string(name), "email": "", "mobileNumber": "", "phoneNumber": "",
            "branch": .null,
        ])
    }

    func encodeIncident(_ incident: Incident) -> JSONValue {
        let caller = person(incident.callerId)
        let callerBranch = caller?.branchId.flatMap { branchById[Self.key($0)] }
        let handler = operatorRecord(incident.operatorId)
        let mainIncident = incident.mainIncidentId.flatMap { incidentIndexById[Self.key($0)] }
            .map { database.incidents[$0] }
        var members: [JSONMember] = [
            JSONMember("id", .string(incident.id)),
            JSONMember("status", .string(incident.archived ? incident.status.rawValue + "Archived"
                                                            : incident.status.rawValue)),
            JSONMember("number", .string(incident.number)),
            JSONMember("request", Self.requestText(incident)),
            JSONMember("requests", .string(Self.incidentLink(incident, "requests"))),
            JSONMember("action", .string(Self.incidentLink(incident, "actions"))),
            JSONMember("attachments", .string(Self.incidentLink(incident, "attachments"))),
            JSONMember("caller", callerJSON(incident)),
            JSONMember("callerBranch", callerBranch.map { .object(["id": .string($0.id), "name": .string($0.name)]) }
                ?? .null),
            JSONMember("briefDescription", .string(incident.briefDescription)),
            JSONMember("externalNumber", .string(incident.externalNumber)),
            JSONMember("category", reference("categories", incident.categoryId)),
            JSONMember("subcategory", reference("subcategories", incident.subcategoryId)),
            JSONMember("callType", reference("call_types", incident.callTypeId)),
            JSONMember("entryType", reference("entry_types", incident.entryTypeId)),
            JSONMember("object", .null),
            JSONMember("branch", callerBranch.map { .object(["id": .string($0.id), "name": .string($0.name)]) }
                ?? .null),
            JSONMember("location", .null),
            JSONMember("impact", reference("impacts", incident.impactId)),
            JSONMember("urgency", reference("urgencies", incident.urgencyId)),
            JSONMember("priority", reference("priorities", incident.priorityId)),
            JSONMember("duration", reference("durations", incident.durationId)),
            JSONMember("targetDate", Self.date(incident.targetDate)),
            JSONMember("onHold", .bool(incident.onHold)),
            JSONMember("onHoldDate", .null),
            JSONMember("onHoldDuration", .int(0)),
            JSONMember("operator", handler.map {
                .object(["id": .string($0.id), "status": "operator", "name": .string($0.dynamicName)])
            } ?? .null),
            JSONMember("operatorGroup", group(incident.operatorGroupId).map {
                .object(["id": .string($0.id), "name": .string($0.groupName)])
            } ?? .null),
            JSONMember("supplier", .null),
            JSONMember("processingStatus", reference("statuses", incident.processingStatusId)),
            JSONMember("completed", .bool(incident.completed)),
            JSONMember("completedDate", Self.date(incident.completedDate)),
            JSONMember("closed", .bool(incident.closed)),
            JSONMember("closedDate", Self.date(incident.closedDate)),
            JSONMember("closureCode", reference("closure_codes", incident.closureCodeId)),
            JSONMember("timeSpent", .int(0)),
            JSONMember("callDate", Self.date(incident.callDate)),
            JSONMember("creator", operatorReference(incident.creatorId)),
            JSONMember("creationDate", Self.date(incident.creationDate)),
            JSONMember("modifier", operatorReference(incident.modifierId)),
            JSONMember("modificationDate", Self.date(incident.modificationDate)),
            JSONMember("majorCall", .bool(false)),
            JSONMember("majorCallObject", .null),
            JSONMember("publishToSsd", .bool(false)),
            JSONMember("monitored", .bool(false)),
            JSONMember("expectedTimeSpent", .int(0)),
        ]
        members.append(JSONMember("mainIncident", mainIncident.map {
            .object(["id": .string($0.id), "number": .string($0.number)])
        } ?? .null))
        let partials = (partialIndexesByMain[Self.key(incident.id)] ?? []).map { database.incidents[$0] }
        members.append(JSONMember("partialIncidents", .array(partials.map {
            .object(["link": .string("/tas/api/incidents/id/\($0.id)")])
        })))
        return .object(members)
    }

    func memoJSON(_ memo: Memo, withVisibility: Bool) -> JSONValue {
        var members = [
            JSONMember("id", .string(memo.id)),
            JSONMember("memoText", .string(memo.text)),
            JSONMember("plainText", .string(memo.text)),
            JSONMember("flag", .null),
        ]
        if withVisibility { members.append(JSONMember("invisibleForCaller", .bool(memo.invisibleForCaller))) }
        members += [
            JSONMember("entryDate", Self.date(memo.entryDate)),
            JSONMember("operator", operatorReference(memo.operatorId)),
            JSONMember("person", personReference(memo.personId)),
            JSONMember("creationDate", Self.date(memo.entryDate)),
        ]
        return .object(members)
    }

    static func downloadURL(_ incident: Incident, _ attachment: Attachment) -> String {
        "/tas/api/incidents/id/\(incident.id)/attachments/\(attachment.id)/download"
    }

    func attachmentJSON(_ attachment: Attachment, of incident: Incident) -> JSONValue {
        .object([
            "id": .string(attachment.id), "fileName": .string(attachment.fileName),
            "downloadUrl": .string(Self.downloadURL(incident, attachment)), "size": .int(attachment.content.count),
            "description": .string(attachment.description), "invisibleForCaller": .bool(attachment.invisibleForCaller),
            "entryDate": Self.date(attachment.entryDate), "operator": operatorReference(attachment.operatorId),
            "person": personReference(attachment.personId),
        ])
    }
}
