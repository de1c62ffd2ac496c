import Foundation

/// The content of a simulated install: people, accounts, lookup lists, incidents and changes.
///
/// The built-in demo database (`TopdeskDatabase.demo`) and a file given with `--data FILE` have
/// the same JSON shape; `legacy-topdesk --dump-data` prints the demo one as a starting point.
/// Ids are compared case-insensitively. Dates are written `2017-02-16T09:12:00.000+0000` (a plain
/// `2017-02-16` is read too). Every key not marked optional is required.
///
/// ```
/// {
///   "branches":       [{"id": "...", "name": "Head office"}],
///   "persons":        [{"id", "firstName", "surName", "dynamicName", "email", "phoneNumber",
///                       "mobileNumber", "employeeNumber", "networkLoginName", "branchId"}],
///   "operators":      [{"id", "firstName", "surName", "dynamicName", "email", "operatorGroupIds": []}],
///   "operatorGroups": [{"id", "groupName"}],
///   "accounts":       [{"login", "password", "kind": "operator" | "person", "subjectId",
///                       "apiAccess": true, "applicationPassword": "..." (optional; modern profile)}],
///   "lookups": {"call_types": [{"id", "name"}], "entry_types": [...], "impacts": [...],
///               "urgencies": [...], "priorities": [...], "durations": [...], "categories": [...],
///               "subcategories": [{"id", "name", "categoryId"}], "statuses": [...] (processing
///               statuses), "closure_codes": [...]},
///   "incidents": [{"id", "number", "status": "firstLine" | "secondLine" | "partial",
///                  "archived", "briefDescription", "request", "requestEncoding": "utf8" | "latin1"
///                  (optional; latin1 sends the request text as ISO-8859-1 bytes), "externalNumber",
///                  "callerId" (optional), "callerName" (optional, unregistered caller),
///                  "operatorId", "operatorGroupId", "categoryId", "subcategoryId", "callTypeId",
///                  "entryTypeId", "impactId", "urgencyId", "priorityId", "durationId",
///                  "processingStatusId", "closureCodeId" (all optional), "onHold", "completed",
///                  "completedDate", "closed", "closedDate", "callDate", "creationDate",
///                  "modificationDate", "targetDate" (dates optional where they may be absent),
///                  "mainIncidentId" (optional, partials), "actions": [memo], "requests": [memo],
///                  "attachments": [{"id", "fileName", "contentType", "description",
///                                   "invisibleForCaller", "entryDate", "operatorId", "personId",
///                                   "content": "<base64>"}]}],
///   memo = {"id", "text", "entryDate", "operatorId" (optional), "personId" (optional),
///           "invisibleForCaller"}
///   "changeTemplates": [{"id", "number", "briefDescription", "request", "changeType":
///                        "simple" | "extensive", "autoApprove", "activities": [{"id", "number",
///                        "briefDescription", "optional"}]}],
///   "changes": [] (changes created so far; same shape as `Change`)
/// }
/// ```
public struct TopdeskDatabase: Sendable, Codable, Equatable {
    public var branches: [LookupEntry]
    public var persons: [Person]
    public var operators: [Operator]
    public var operatorGroups: [OperatorGroup]
    public var accounts: [Account]
    public var lookups: [String: [LookupEntry]]
    public var incidents: [Incident]
    public var changeTemplates: [ChangeTemplate]
    public var changes: [Change]

    public init(branches: [LookupEntry] = [], persons: [Person] = [], operators: [Operator] = [],
                operatorGroups: [OperatorGroup] = [], accounts: [Account] = [], lookups: [String: [LookupEntry]] = [:],
                incidents: [Incident] = [], changeTemplates: [ChangeTemplate] = [], changes: [Change] = []) {
        self.branches = branches
        self.persons = persons
        self.operators = operators
        self.operatorGroups = operatorGroups
        self.accounts = accounts
        self.lookups = lookups
        self.incidents = incidents
        self.changeTemplates = changeTemplates
        self.changes = changes
    }

    /// Reads a database file in the shape documented above.
    public static func load(contentsOf path: String) throws -> TopdeskDatabase {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try JSONDecoder().decode(TopdeskDatabase.self, from: data)
    }

    /// The database in the file shape, pretty-printed with sorted keys.
    public func encodedForFile() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    /// The names of the lookup lists served under `/tas/api/incidents/<name>`.
    public static let lookupListNames = [
        "call_types", "entry_types", "impacts", "urgencies", "priorities", "durations", "categories",
        "subcategories", "statuses", "closure_codes",
    ]
}

/// An `{id, name}` entry of a lookup list (a subcategory also names its category).
public struct LookupEntry: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var categoryId: String?

    public init(id: String, name: String, categoryId: String? = nil) {
        self.id = id
        self.name = name
        self.categoryId = categoryId
    }
}

public struct Person: Sendable, Codable, Equatable {
    public var id: String
    public var firstName: String
    public var surName: String
    public var dynamicName: String
    public var email: String
    public var phoneNumber: String
    public var mobileNumber: String
    public var employeeNumber: String
    public var networkLoginName: String
    public var branchId: String?
}

public struct Operator: Sendable, Codable, Equatable {
    public var id: String
    public var firstName: String
    public var surName: String
    public var dynamicName: String
    public var email: String
    public var operatorGroupIds: [String]
}

public struct OperatorGroup: Sendable, Codable, Equatable {
    public var id: String
    public var groupName: String
}

/// A login: operator or person, its password, and whether a permission group lets it use the API.
public struct Account: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable, Equatable {
        case `operator`
        case person
    }

    public var login: String
    public var password: String
    public var kind: Kind
    /// The id of the operator or person this account logs in as.
    public var subjectId: String
    /// "User does not have permission to access the REST realm" when false.
    public var apiAccess: Bool
    /// Accepted as `Basic login:applicationPassword` in the modern profile.
    public var applicationPassword: String?
}

/// A text entry of an incident: an action or a request.
public struct Memo: Sendable, Codable, Equatable {
    public var id: String
    public var text: String
    public var entryDate: TopdeskDate
    public var operatorId: String?
    public var personId: String?
    public var invisibleForCaller: Bool
}

public struct Attachment: Sendable, Codable, Equatable {
    public var id: String
    public var fileName: String
    public var contentType: String
    public var description: String
    public var invisibleForCaller: Bool
    public var entryDate: TopdeskDate
    public var operatorId: String?
    public var personId: String?
    public var content: Data
}

public enum IncidentStatus: String, Sendable, Codable, Equatable, CaseIterable {
    case firstLine
    case secondLine
    case partial
}

public enum TextEncoding: String, Sendable, Codable, Equatable {
    case utf8
    case latin1
}

public struct Incident: Sendable, Codable, Equatable {
    public var id: String
    public var number: String
    public var status: IncidentStatus
    public var archived: Bool
    public var briefDescription: String
    public var request: String
    public var requestEncoding: TextEncoding?
    public var externalNumber: String
    public var callerId: String?
    public var callerName: String?
    public var operatorId: String?
    public var operatorGroupId: String?
    public var categoryId: String?
    public var subcategoryId: String?
    public var callTypeId: String?
    public var entryTypeId: String?
    public var impactId: String?
    public var urgencyId: String?
    public var priorityId: String?
    public var durationId: String?
    public var processingStatusId: String?
    public var closureCodeId: String?
    public var onHold: Bool
    public var completed: Bool
    public var completedDate: TopdeskDate?
    public var closed: Bool
    public var closedDate: TopdeskDate?
    public var callDate: TopdeskDate
    public var creationDate: TopdeskDate
    public var modificationDate: TopdeskDate
    public var targetDate: TopdeskDate?
    public var mainIncidentId: String?
    public var creatorId: String?
    public var modifierId: String?
    public var actions: [Memo]
    public var requests: [Memo]
    public var attachments: [Attachment]
}

public enum ChangeType: String, Sendable, Codable, Equatable {
    case simple
    case extensive
}

public struct ChangeTemplate: Sendable, Codable, Equatable {
    public struct Activity: Sendable, Codable, Equatable {
        public var id: String
        public var number: String
        public var briefDescription: String
        /// Optional activities are created only when the request asks for them (or names none).
        public var optional: Bool
    }

    public var id: String
    public var number: String
    public var briefDescription: String
    public var request: String
    public var changeType: ChangeType
    /// The request phase approves by itself: the change starts approved.
    public var autoApprove: Bool
    public var activities: [Activity]
}

public struct Change: Sendable, Codable, Equatable {
    public struct Activity: Sendable, Codable, Equatable {
        public var id: String
        public var number: String
        public var briefDescription: String
        /// The template activity this one was made from.
        public var templateActivityId: String
        public var optional: Bool
    }

    public var id: String
    public var number: String
    public var requesterId: String
    public var briefDescription: String
    public var request: String
    public var changeType: ChangeType
    public var templateId: String
    public var approved: Bool
    public var creationDate: TopdeskDate
    public var modificationDate: TopdeskDate
    public var externalNumber: String
    public var activities: [Activity]
}
