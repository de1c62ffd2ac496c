/// The `route` label of request metrics: the first path segment after `/tas/api/`, when it is one
/// of a fixed list, else `other`. A fixed set keeps the number of series bounded whatever paths
/// clients send (raw paths would make one series per incident).
enum MetricRoute: Int, CaseIterable, Sendable {
    case incidents, operatorChanges, persons, operators, operatorgroups, login, version, other

    var label: String {
        switch self {
        case .incidents: return "incidents"
        case .operatorChanges: return "operatorChanges"
        case .persons: return "persons"
        case .operators: return "operators"
        case .operatorgroups: return "operatorgroups"
        case .login: return "login"
        case .version: return "version"
        case .other: return "other"
        }
    }

    private static let apiPrefix = Array("/tas/api/".utf8)
    private static let named: [(segment: [UInt8], route: MetricRoute)] =
        allCases.filter { $0 != .other }.map { (Array($0.label.utf8), $0) }

    /// Classifies a request path (no query). Compares bytes, a segment only with names of its
    /// length; allocates nothing for a native string (every path the gateway logs).
    static func classify(path: String) -> MetricRoute {
        var path = path
        return path.withUTF8(classify(bytes:))
    }

    private static func classify(bytes: UnsafeBufferPointer<UInt8>) -> MetricRoute {
        guard bytes.count >= apiPrefix.count, bytes.prefix(apiPrefix.count).elementsEqual(apiPrefix) else {
            return .other
        }
        let rest = UnsafeBufferPointer(rebasing: bytes[apiPrefix.count...])
        let segment = UnsafeBufferPointer(rebasing: rest[..<(rest.firstIndex(of: UInt8(ascii: "/")) ?? rest.count)])
        for (name, route) in named where name.count == segment.count && segment.elementsEqual(name) {
            return route
        }
        return .other
    }
}

/// The `status_class` label: "1xx" to "5xx" (499, a client that went away, counts as 4xx).
enum MetricStatusClass: Int, CaseIterable, Sendable {
    case informational, success, redirection, clientError, serverError

    init(status: Int) {
        switch status {
        case ..<200: self = .informational
        case 200..<300: self = .success
        case 300..<400: self = .redirection
        case 400..<500: self = .clientError
        default: self = .serverError
        }
    }

    var label: String {
        switch self {
        case .informational: return "1xx"
        case .success: return "2xx"
        case .redirection: return "3xx"
        case .clientError: return "4xx"
        case .serverError: return "5xx"
        }
    }
}
