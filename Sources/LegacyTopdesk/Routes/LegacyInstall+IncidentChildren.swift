import Foundation
import HTTP1

/// `.../actions`, `.../requests`, `.../progresstrail` and `.../attachments` of one incident.
extension LegacyInstall {
    mutating func routeIncidentChildren(of index: Int, _ call: APICall) -> SimulatorResponse {
        let path = call.path
        let incident = database.incidents[index]
        let hidesInvisible = call.principal.kind == .person
        switch (path[3], path.count) {
        case ("actions", 4), ("requests", 4):
            guard call.method == "GET" else { return methodNotAllowed(["GET"]) }
            let memos = path[3] == "actions" ? incident.actions : incident.requests
            let visible = memos.filter { !(hidesInvisible && $0.invisibleForCaller) }
            let values = visible.map { memoJSON($0, withVisibility: path[3] == "actions") }
            return pagedResponse(values, target: call.target)
        case ("progresstrail", 4):
            guard call.method == "GET" else { return methodNotAllowed(["GET"]) }
            return pagedResponse(progressTrail(incident, hidesInvisible: hidesInvisible), target: call.target)
        case ("progresstrail", 5) where path[4] == "count":
            guard call.method == "GET" else { return methodNotAllowed(["GET"]) }
            let count = progressTrail(incident, hidesInvisible: hidesInvisible).count
            return .json(200, .object(["numberOfItems": .int(count)]))
        case ("attachments", 4):
            switch call.method {
            case "GET":
                let visible = incident.attachments.filter { !(hidesInvisible && $0.invisibleForCaller) }
                return pagedResponse(visible.map { attachmentJSON($0, of: incident) }, target: call.target)
            case "POST":
                return uploadAttachment(to: index, call)
            default:
                return methodNotAllowed(["GET", "POST"])
            }
        case ("attachments", 6) where path[5] == "download":
            guard call.method == "GET" else { return methodNotAllowed(["GET"]) }
            guard let attachment = incident.attachments.first(where: { Self.key($0.id) == Self.key(path[4]) }),
                !(hidesInvisible && attachment.invisibleForCaller)
            else { return .error(404, "Attachment not found") }
            var response = SimulatorResponse(status: 200, body: Array(attachment.content))
            response.headers.add(name: "Content-Type", value: attachment.contentType)
            let fileName = attachment.fileName.replacingOccurrences(of: "\"", with: "")
            response.headers.add(name: "Content-Disposition", value: "attachment; filename=\"\(fileName)\"")
            return response
        default:
            return notFound()
        }
    }

    /// Actions, requests and attachments merged, newest first.
    func progressTrail(_ incident: Incident, hidesInvisible: Bool) -> [JSONValue] {
        var entries: [(date: TopdeskDate, value: JSONValue)] = []
        for memo in incident.actions where !(hidesInvisible && memo.invisibleForCaller) {
            entries.append((memo.entryDate, memoJSON(memo, withVisibility: true)))
        }
        for memo in incident.requests {
            entries.append((memo.entryDate, memoJSON(memo, withVisibility: true)))
        }
        for attachment in incident.attachments where !(hidesInvisible && attachment.invisibleForCaller) {
            entries.append((attachment.entryDate, .object([
                "id": .string(attachment.id), "memoText": .null, "plainText": .null, "flag": .null,
                "invisibleForCaller": .bool(attachment.invisibleForCaller),
                "entryDate": Self.date(attachment.entryDate), "operator": operatorReference(attachment.operatorId),
                "person": personReference(attachment.personId), "fileName": .string(attachment.fileName),
                "downloadUrl": .string(Self.downloadURL(incident, attachment)), "size": .int(attachment.content.count),
            ])))
        }
        return entries.enumerated().sorted { left, right in
            let (a, b) = (left.element.date, right.element.date)
            return a != b ? a > b : left.offset < right.offset
        }.map(\.element.value)
    }

    /// `multipart/form-data` with a part named `file`, optional `invisibleForCaller`, `description`.
    mutating func uploadAttachment(to index: Int, _ call: APICall) -> SimulatorResponse {
        let contentType = call.request.headers.first(name: "Content-Type") ?? ""
        guard let boundary = MultipartParser.boundary(fromContentType: contentType) else {
            return .error(415, "Content-Type must be multipart/form-data with a boundary")
        }
        let parts = MultipartParser.parts(of: call.request.body, boundary: boundary)
        // A wrong part name or boundary leaves no `file` part: the upload arrived empty.
        guard let file = parts.first(where: { $0.name == "file" }) else {
            return .error(400, "No file was uploaded: expected a multipart part named \"file\"")
        }
        var invisible = false
        if let flag = parts.first(where: { $0.name == "invisibleForCaller" })?.text {
            guard flag == "true" || flag == "false" else {
                return .error(400, "invisibleForCaller must be true or false")
            }
            invisible = flag == "true" && call.isOperator
        }
        let attachment = Attachment(
            id: makeID(), fileName: file.fileName ?? "file",
            contentType: file.contentType ?? "application/octet-stream",
            description: parts.first(where: { $0.name == "description" })?.text ?? "", invisibleForCaller: invisible,
            entryDate: call.now, operatorId: call.isOperator ? call.principal.subjectId : nil,
            personId: call.isOperator ? nil : call.principal.subjectId, content: Data(file.body))
        var incident = database.incidents[index]
        incident.attachments.insert(attachment, at: 0)
        incident.modificationDate = call.now
        store(incident, at: index, previousMain: incident.mainIncidentId)
        return .json(200, attachmentJSON(attachment, of: incident))
    }
}
