/// Consistency checks for a database loaded with `--data`, so a mistake in a hand-written file is
/// reported at start with the record it concerns instead of surfacing as a confusing 404 later.
extension TopdeskDatabase {
    /// Every problem found; empty when the database is consistent.
    public func validationProblems() -> [String] {
        var problems: [String] = []
        func key(_ id: String) -> String { id.lowercased() }
        func duplicates(_ values: [String], _ what: String) {
            var seen: Set<String> = []
            for value in values where !seen.insert(value).inserted {
                problems.append("\(what) \(value) appears more than once")
            }
        }
        duplicates(persons.map { key($0.id) }, "person id")
        duplicates(operators.map { key($0.id) }, "operator id")
        duplicates(operatorGroups.map { key($0.id) }, "operator group id")
        duplicates(incidents.map { key($0.id) }, "incident id")
        duplicates(incidents.map { $0.number.uppercased() }, "incident number")
        duplicates(accounts.map { $0.login.uppercased() }, "account login")
        duplicates(changeTemplates.map { $0.number.uppercased() }, "change template number")

        let personIds = Set(persons.map { key($0.id) })
        let operatorIds = Set(operators.map { key($0.id) })
        let groupIds = Set(operatorGroups.map { key($0.id) })
        let incidentIds = Set(incidents.map { key($0.id) })
        for account in accounts {
            let subjects = account.kind == .operator ? operatorIds : personIds
            if !subjects.contains(key(account.subjectId)) {
                problems.append("account \(account.login): no \(account.kind.rawValue) with id \(account.subjectId)")
            }
        }
        for record in operators {
            for group in record.operatorGroupIds where !groupIds.contains(key(group)) {
                problems.append("operator \(record.id): no operator group with id \(group)")
            }
        }
        for incident in incidents {
            let name = "incident \(incident.number)"
            if let caller = incident.callerId, !personIds.contains(key(caller)) {
                problems.append("\(name): no person with callerId \(caller)")
            }
            if let handler = incident.operatorId, !operatorIds.contains(key(handler)) {
                problems.append("\(name): no operator with operatorId \(handler)")
            }
            if let group = incident.operatorGroupId, !groupIds.contains(key(group)) {
                problems.append("\(name): no operator group with operatorGroupId \(group)")
            }
            if let main = incident.mainIncidentId, !incidentIds.contains(key(main)) {
                problems.append("\(name): no incident with mainIncidentId \(main)")
            }
            if incident.briefDescription.count > 80 {
                problems.append("\(name): briefDescription is longer than 80 characters")
            }
        }
        let known = TopdeskDatabase.lookupListNames
        for list in lookups.keys.sorted() where !known.contains(list) {
            problems.append("lookups: unknown list \(list) (known: \(known.joined(separator: ", ")))")
        }
        return problems
    }
}
