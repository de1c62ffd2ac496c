import Foundation

/// The built-in demo install, generated deterministically: the same bytes on every run.
///
/// The ids, numbers and accounts the old tutorial and the project's docs use are fixed here;
/// the rest (64 open incidents plus 2 archived ones, 10 persons, 5 operators, 3 operator groups,
/// lookup lists, 3 change templates) is made from a seeded generator.
extension TopdeskDatabase {
    public enum DemoIDs {
        public static let caller = "e127ddc1-0df3-5ee4-9144-95f751bc13ee"
        public static let `operator` = "751E0A70-5B2B-572D-8CAE-99F52651B6D0"
        public static let operatorGroup = "997F35AE-4490-5FDE-BA1C-72044499EA41"
        public static let requester = "32916B7D-3890-45E6-82CA-43E0F3165969"
        public static let firstIncidentNumber = "I 1602 001"
        public static let changeTemplateNumber = "CHT 0011"
        public static let extraOptionalActivity = "32916B7D-3890-45E6-82CA-43E0F3165969"
        public static let noAPIOperator = "4f6b3e0c-2a1d-5c7e-9b8a-1d2e3f405162"
        /// The incident whose request text goes out as ISO-8859-1 bytes.
        public static let latin1IncidentNumber = "I 1605 001"
    }

    public enum DemoAccounts {
        public static let operatorLogin = "api.operator"
        public static let operatorPassword = "Operator-Pass-1"
        public static let operatorApplicationPassword = "ipsal-a7aid-6ybuq-ucjwg-axt4i"
        public static let noAPILogin = "no.api"
        public static let noAPIPassword = "NoApi-Pass-1"
        public static let personLogin = "b.palmer"
        public static let personPassword = "Person-Pass-1"
    }

    /// The default database.
    public static let demo: TopdeskDatabase = makeDemo()

    /// Generates the demo database afresh (`demo` keeps one copy per process).
    static func makeDemo() -> TopdeskDatabase {
        var builder = DemoDataBuilder()
        return builder.build()
    }
}

/// SplitMix64: small, seeded, and the same on every platform.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A lower-case UUID-shaped id (version 4 bits set) drawn from the generator.
    mutating func uuid() -> String {
        let high = next(), low = next()
        let hex = String(high, radix: 16).leftPadded(16) + String(low, radix: 16).leftPadded(16)
        let chars = Array(hex)
        return String(chars[0..<8]) + "-" + String(chars[8..<12]) + "-4" + String(chars[13..<16]) + "-a"
            + String(chars[17..<20]) + "-" + String(chars[20..<32])
    }
}

extension String {
    func leftPadded(_ width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}

private struct DemoDataBuilder {
    var random = SeededGenerator(state: 0x7011_DE5C)

    mutating func lookup(_ names: [String]) -> [LookupEntry] {
        names.map { LookupEntry(id: random.uuid(), name: $0) }
    }

    mutating func build() -> TopdeskDatabase {
        var database = TopdeskDatabase()
        database.branches = lookup(["Head office", "Branch North", "Branch South"])
        database.operatorGroups = [
            OperatorGroup(id: TopdeskDatabase.DemoIDs.operatorGroup, groupName: "Service desk"),
            OperatorGroup(id: random.uuid(), groupName: "Second line support"),
            OperatorGroup(id: random.uuid(), groupName: "Network team"),
        ]
        let groups = database.operatorGroups.map(\.id)
        database.operators = makeOperators(groups: groups)
        database.persons = makePersons(branches: database.branches.map(\.id))
        typealias Accounts = TopdeskDatabase.DemoAccounts
        typealias IDs = TopdeskDatabase.DemoIDs
        database.accounts = [
            Account(login: Accounts.operatorLogin, password: Accounts.operatorPassword, kind: .operator,
                    subjectId: IDs.operator, apiAccess: true,
                    applicationPassword: Accounts.operatorApplicationPassword),
            Account(login: Accounts.noAPILogin, password: Accounts.noAPIPassword, kind: .operator,
                    subjectId: IDs.noAPIOperator, apiAccess: false, applicationPassword: nil),
            Account(login: Accounts.personLogin, password: Accounts.personPassword, kind: .person,
                    subjectId: IDs.requester, apiAccess: true, applicationPassword: nil),
        ]
        database.lookups = makeLookups()
        database.incidents = makeIncidents(database)
        database.changeTemplates = makeChangeTemplates()
        return database
    }

    mutating func makeOperators(groups: [String]) -> [Operator] {
        let people: [(String, String, String, [Int])] = [
            (TopdeskDatabase.DemoIDs.operator, "Ada", "Operator", [0, 1]),
            (random.uuid(), "Carl", "Dekker", [0]),
            (random.uuid(), "Dana", "Visser", [1]),
            (random.uuid(), "Emil", "Smit", [2]),
            (TopdeskDatabase.DemoIDs.noAPIOperator, "Noor", "Meijer", [2, 0]),
        ]
        return people.map { id, first, last, groupIndexes in
            Operator(id: id, firstName: first, surName: last, dynamicName: "\(last), \(first)",
                     email: "\(first.lowercased()).\(last.lowercased())@example.com",
                     operatorGroupIds: groupIndexes.map { groups[$0] })
        }
    }

    mutating func makePersons(branches: [String]) -> [Person] {
        let names: [(String, String)] = [
            ("Jan", "Bakker"), ("Brenda", "Palmer"), ("Chris", "Mulder"), ("Daan", "de Vries"), ("Eva", "Jansen"),
            ("Femke", "Bos"), ("Gijs", "Peters"), ("Hanna", "Hendriks"), ("Ivo", "van Dijk"), ("Julia", "Kok"),
        ]
        return names.enumerated().map { index, name in
            let id: String
            switch index {
            case 0: id = TopdeskDatabase.DemoIDs.caller
            case 1: id = TopdeskDatabase.DemoIDs.requester
            default: id = random.uuid()
            }
            let (first, last) = name
            let login = "\(first.prefix(1)).\(last.replacingOccurrences(of: " ", with: ""))".lowercased()
            return Person(id: id, firstName: first, surName: last, dynamicName: "\(last), \(first.prefix(1)).",
                          email: "\(login)@example.com", phoneNumber: "+31 15 200 \(String(1000 + index * 7))",
                          mobileNumber: "+31 6 1234 \(String(5000 + index * 13))",
                          employeeNumber: "E\(String(4100 + index))", networkLoginName: login,
                          branchId: branches[index % branches.count])
        }
    }

    mutating func makeLookups() -> [String: [LookupEntry]] {
        var lookups: [String: [LookupEntry]] = [:]
        lookups["call_types"] = lookup(["Complaint", "Question", "Malfunction", "Request for information"])
        lookups["entry_types"] = lookup(["Telephone", "E-mail", "Self-Service Portal", "Walk-in"])
        lookups["impacts"] = lookup(["Person", "Department", "Organisation"])
        lookups["urgencies"] = lookup(["Low", "Normal", "High"])
        lookups["priorities"] = lookup(["P1 Critical", "P2 High", "P3 Normal", "P4 Low"])
        lookups["durations"] = lookup(["1 hour", "4 hours", "1 day", "1 week"])
        let categories = lookup(["Hardware", "Software", "Network"])
        lookups["categories"] = categories
        let subcategoryNames = [["Printer", "Laptop"], ["Office", "ERP"], ["Wi-Fi", "VPN"]]
        lookups["subcategories"] = zip(categories, subcategoryNames).flatMap { category, names in
            names.map { LookupEntry(id: random.uuid(), name: $0, categoryId: category.id) }
        }
        lookups["statuses"] = lookup(["Logged", "In progress", "Waiting for user", "Completed", "Closed"])
        lookups["closure_codes"] = lookup(["Solved", "Workaround", "Not reproducible"])
        return lookups
    }

    static let subjects = [
        "Printer does not print", "Cannot log in to the ERP system", "Laptop battery drains fast",
        "VPN disconnects every hour", "Mailbox full", "Wi-Fi slow on the third floor", "Monitor flickers",
        "Request for a second screen", "Spreadsheet macro error", "Password reset needed",
        "Phone forwards to the wrong number", "Projector in room 2.14 is broken", "Software licence expired",
        "Badge does not open the side door", "Shared drive not mapped", "Calendar invitations go missing",
    ]

    mutating func makeIncidents(_ database: TopdeskDatabase) -> [Incident] {
        var incidents: [Incident] = []
        var sequenceByMonth: [String: Int] = [:]
        let start = TopdeskDate(year: 2016, month: 2, day: 1, hour: 9, minute: 12)
        let persons = database.persons, operators = database.operators, groups = database.operatorGroups
        let lookups = database.lookups
        let total = 66
        for index in 0..<total {
            let created = start.adding(seconds: Int64(index) * 9 * 86_400 + Int64(index % 7) * 3_700)
            let c = created.components
            let month = String(c.year % 100).leftPadded(2) + String(c.month).leftPadded(2)
            let sequence = (sequenceByMonth[month] ?? 0) + 1
            sequenceByMonth[month] = sequence
            let number = "I \(month) \(String(sequence).leftPadded(3))"

            let status: IncidentStatus
            if index % 11 == 5 {
                status = .partial
            } else if index % 8 == 3 || index % 8 == 6 {
                status = .secondLine
            } else {
                status = .firstLine
            }
            let completed = index % 3 == 0 || index < 12
            let closed = completed && index % 2 == 0
            let group = groups[index % groups.count]
            let members = operators.filter { $0.operatorGroupIds.contains(group.id) }
            let handler = members[index % members.count]
            let caller = persons[(index * 7) % persons.count]
            let category = index % 3
            let subject = DemoDataBuilder.subjects[index % DemoDataBuilder.subjects.count]
            var request = "\(subject). Reported by \(caller.dynamicName) on \(created.description.prefix(10))."
            var encoding: TextEncoding?
            if number == TopdeskDatabase.DemoIDs.latin1IncidentNumber {
                request = "Müller meldet: der Drucker im Café druckt ÿ statt ü."
                encoding = .latin1
            }
            let id = index == 0 ? "0c1a9a3e-6f2b-4b1e-9d0a-1602000000a1" : random.uuid()
            var incident = Incident(
                id: id, number: number, status: status, archived: index >= 64, briefDescription: subject,
                request: request, requestEncoding: encoding,
                externalNumber: index % 5 == 0 ? "EXT-\(1000 + index)" : "", callerId: caller.id, callerName: nil,
                operatorId: handler.id, operatorGroupId: group.id,
                categoryId: lookups["categories"]?[category].id,
                subcategoryId: lookups["subcategories"]?[category * 2 + index % 2].id,
                callTypeId: lookups["call_types"]?[index % 4].id, entryTypeId: lookups["entry_types"]?[index % 4].id,
                impactId: lookups["impacts"]?[index % 3].id, urgencyId: lookups["urgencies"]?[(index / 2) % 3].id,
                priorityId: lookups["priorities"]?[index % 4].id, durationId: lookups["durations"]?[index % 4].id,
                processingStatusId: lookups["statuses"]?[closed ? 4 : completed ? 3 : index % 3].id,
                closureCodeId: closed ? lookups["closure_codes"]?[index % 3].id : nil,
                onHold: !completed && index % 9 == 4, completed: completed,
                completedDate: completed ? created.adding(seconds: 2 * 86_400) : nil, closed: closed,
                closedDate: closed ? created.adding(seconds: 3 * 86_400) : nil, callDate: created,
                creationDate: created,
                modificationDate: created.adding(seconds: completed ? 3 * 86_400 : 3_600),
                targetDate: created.adding(seconds: 3 * 86_400),
                mainIncidentId: nil, creatorId: operators[0].id, modifierId: handler.id,
                actions: [], requests: [], attachments: [])
            if status == .partial, let main = incidents.last(where: { $0.status != .partial }) {
                incident.mainIncidentId = main.id
            }
            incident.requests = [
                Memo(id: random.uuid(), text: request, entryDate: created, operatorId: nil, personId: caller.id,
                     invisibleForCaller: false)
            ]
            for step in 0..<(index % 4) {
                let steps = ["Asked for details", "Checked the logs", "Escalated to the supplier", "Applied a fix"]
                incident.actions.insert(
                    Memo(id: random.uuid(), text: "Step \(step + 1): \(steps[step % 4]).",
                         entryDate: created.adding(seconds: Int64(step + 1) * 5_400), operatorId: handler.id,
                         personId: nil, invisibleForCaller: step == 1),
                    at: 0)
            }
            if index == 0 {
                incident.attachments = [
                    Attachment(id: "5d1c7a52-91f4-4a7e-8c26-1602000000f1", fileName: "error-42.txt",
                               contentType: "text/plain", description: "Screen text", invisibleForCaller: false,
                               entryDate: created.adding(seconds: 600), operatorId: handler.id, personId: nil,
                               content: Data("Error 42: the printer queue is stuck.\n".utf8))
                ]
            }
            incidents.append(incident)
        }
        return incidents
    }

    mutating func makeChangeTemplates() -> [ChangeTemplate] {
        typealias Activity = ChangeTemplate.Activity
        return [
            ChangeTemplate(
                id: random.uuid(), number: TopdeskDatabase.DemoIDs.changeTemplateNumber,
                briefDescription: "New employee workplace", request: "Set up a workplace for a new employee.",
                changeType: .extensive, autoApprove: false,
                activities: [
                    Activity(id: random.uuid(), number: "MA 0012", briefDescription: "Create accounts",
                             optional: false),
                    Activity(id: random.uuid(), number: "OA 0078", briefDescription: "Order a laptop", optional: true),
                    Activity(id: random.uuid(), number: "OA 0084", briefDescription: "Order a phone", optional: true),
                    Activity(id: random.uuid(), number: "OA 0145", briefDescription: "Order an access badge",
                             optional: true),
                    Activity(id: TopdeskDatabase.DemoIDs.extraOptionalActivity, number: "OA 0163",
                             briefDescription: "Book an introduction course", optional: true),
                ]),
            ChangeTemplate(
                id: random.uuid(), number: "CHT 0012", briefDescription: "Reset a shared mailbox password",
                request: "Reset the password of a shared mailbox.", changeType: .simple, autoApprove: true,
                activities: []),
            ChangeTemplate(
                id: random.uuid(), number: "CHT 0013", briefDescription: "Replace a mail server",
                request: "Replace the mail server.", changeType: .extensive, autoApprove: false,
                activities: [
                    Activity(id: random.uuid(), number: "MA 0020", briefDescription: "Plan the migration",
                             optional: false),
                    Activity(id: random.uuid(), number: "OA 0201", briefDescription: "Inform all users",
                             optional: true),
                ]),
        ]
    }
}
