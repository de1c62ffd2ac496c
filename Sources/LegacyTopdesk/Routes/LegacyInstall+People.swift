/// `/tas/api/persons`, `/operators`, `/operatorgroups` and who the caller is (`.../current`).
extension LegacyInstall {
    func routePeople(_ call: APICall) -> SimulatorResponse {
        let path = call.path
        guard call.method == "GET" else { return methodNotAllowed(["GET"]) }
        let resource = path[0]
        if path.count == 2, path[1] == "current" {
            switch (resource, call.principal.kind) {
            case ("persons", .person):
                return person(call.principal.subjectId).map { .json(200, personJSON($0)) } ?? notFound()
            case ("operators", .operator):
                return operatorRecord(call.principal.subjectId).map { .json(200, operatorJSON($0)) } ?? notFound()
            case ("persons", .operator), ("operators", .person):
                return .error(403, "The current user is not a \(resource == "persons" ? "person" : "operator")")
            default:
                return notFound()
            }
        }
        // Everything else about people is for operators.
        guard call.isOperator else { return operatorsOnly() }
        if path.count == 3, path[1] == "id" {
            let found: JSONValue?
            switch resource {
            case "persons": found = person(path[2]).map(personJSON)
            case "operators": found = operatorRecord(path[2]).map(operatorJSON)
            default: found = group(path[2]).map(groupJSON)
            }
            return found.map { .json(200, $0) } ?? .error(404, "Not found: \(path[2])")
        }
        guard path.count == 1 else { return notFound() }
        switch resource {
        case "persons":
            var persons = database.persons
            if let email = call.target.value("email") {
                persons = persons.filter { $0.email.lowercased() == email.lowercased() }
            }
            if let surname = call.target.value("lastname") ?? call.target.value("surname") {
                persons = persons.filter { $0.surName.lowercased().hasPrefix(surname.lowercased()) }
            }
            return pagedResponse(persons.map(personJSON), target: call.target)
        case "operators":
            return pagedResponse(database.operators.map(operatorJSON), target: call.target)
        default:
            return pagedResponse(database.operatorGroups.map(groupJSON), target: call.target)
        }
    }

    func personJSON(_ person: Person) -> JSONValue {
        let branch = person.branchId.flatMap { branchById[Self.key($0)] }
        return .object([
            "id": .string(person.id), "dynamicName": .string(person.dynamicName),
            "firstName": .string(person.firstName), "surName": .string(person.surName), "email": .string(person.email),
            "phoneNumber": .string(person.phoneNumber), "mobileNumber": .string(person.mobileNumber),
            "employeeNumber": .string(person.employeeNumber), "networkLoginName": .string(person.networkLoginName),
            "branch": branch.map { .object(["id": .string($0.id), "name": .string($0.name)]) } ?? .null,
        ])
    }

    func operatorJSON(_ record: Operator) -> JSONValue {
        .object([
            "id": .string(record.id), "dynamicName": .string(record.dynamicName),
            "firstName": .string(record.firstName), "surName": .string(record.surName), "email": .string(record.email),
        ])
    }

    func groupJSON(_ record: OperatorGroup) -> JSONValue {
        .object(["id": .string(record.id), "groupName": .string(record.groupName)])
    }
}
