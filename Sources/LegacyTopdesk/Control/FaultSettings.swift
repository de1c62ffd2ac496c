/// Misbehaviour switched on through the control listener (`POST /faults`), applied to every API
/// request: slow answers, random 500s, connections closed mid-response, and 401s as HTML.
public struct FaultSettings: Sendable, Equatable {
    /// Delay before each answer, in milliseconds. Default 0.
    public var latencyMilliseconds: Int = 0
    /// Share of requests answered 500 before any other processing, 0...1. Default 0.
    public var status500Rate: Double = 0
    /// Share of responses cut off after the head and part of the body, 0...1. Default 0.
    public var dropRate: Double = 0
    /// Answer 401s with the servlet container's HTML page. Default false.
    public var html401: Bool = false

    public init() {}

    /// Reads `{"latencyMs": 0, "status500Rate": 0.0, "dropRate": 0.0, "html401": false}`; every
    /// member is optional and an absent one takes its default, so `{}` resets everything.
    public init(json: JSONValue) throws(FaultSettingsError) {
        guard let members = json.objectMembers else { throw FaultSettingsError(message: "Faults must be an object") }
        for member in members {
            switch member.key {
            case "latencyMs":
                guard let value = member.value.intValue, value >= 0, value <= 600_000 else {
                    throw FaultSettingsError(message: "latencyMs must be an integer from 0 to 600000")
                }
                latencyMilliseconds = value
            case "status500Rate", "dropRate":
                let rate: Double
                switch member.value {
                case .int(let number): rate = Double(number)
                case .double(let number): rate = number
                default: throw FaultSettingsError(message: "\(member.key) must be a number from 0 to 1")
                }
                guard rate >= 0, rate <= 1 else {
                    throw FaultSettingsError(message: "\(member.key) must be a number from 0 to 1")
                }
                if member.key == "dropRate" { dropRate = rate } else { status500Rate = rate }
            case "html401":
                guard let flag = member.value.boolValue else {
                    throw FaultSettingsError(message: "html401 must be true or false")
                }
                html401 = flag
            default:
                throw FaultSettingsError(message: "Unknown fault \"\(member.key)\"")
            }
        }
    }

    public var json: JSONValue {
        .object([
            "latencyMs": .int(latencyMilliseconds), "status500Rate": .double(status500Rate),
            "dropRate": .double(dropRate), "html401": .bool(html401),
        ])
    }
}

public struct FaultSettingsError: Error, Sendable, Equatable {
    public var message: String
}
