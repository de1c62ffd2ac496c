/// Options of one subcommand: `--name value`, `--name=value`, flags, and positional arguments.
struct CommandOptions {
    let subcommand: String
    private(set) var values: [String: [String]] = [:]
    private(set) var flags: Set<String> = []
    private(set) var positionals: [String] = []
    private(set) var wantsHelp = false

    static func parse(
        _ arguments: [String], subcommand: String, valueOptions: Set<String> = [],
        repeatableOptions: Set<String> = [], flags knownFlags: Set<String> = []
    ) throws(CommandUsageError) -> CommandOptions {
        var options = CommandOptions(subcommand: subcommand)
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "-h" || argument == "--help" {
                options.wantsHelp = true
                continue
            }
            guard argument.hasPrefix("-") && argument != "-" else {
                options.positionals.append(argument)
                continue
            }
            let name: String
            var inlineValue: String?
            if let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                inlineValue = String(argument[argument.index(after: equals)...])
            } else {
                name = argument
            }
            if knownFlags.contains(name) {
                guard inlineValue == nil else {
                    throw options.error("option \(name) takes no value")
                }
                options.flags.insert(name)
                continue
            }
            guard valueOptions.contains(name) || repeatableOptions.contains(name) else {
                throw options.error("unknown option '\(name)' for 'credentials \(subcommand)'")
            }
            let value: String
            if let inlineValue {
                value = inlineValue
            } else {
                // "--client --json" is a forgotten value, not a client named "--json".
                guard index < arguments.count, !arguments[index].hasPrefix("--") else {
                    throw options.error("option \(name) needs a value")
                }
                value = arguments[index]
                index += 1
            }
            if valueOptions.contains(name), options.values[name] != nil {
                throw options.error("option \(name) is given more than once")
            }
            options.values[name, default: []].append(value)
        }
        return options
    }

    func has(_ flag: String) -> Bool {
        flags.contains(flag)
    }

    func value(_ name: String) -> String? {
        values[name]?.first
    }

    func values(_ name: String) -> [String] {
        values[name] ?? []
    }

    func required(_ name: String) throws(CommandUsageError) -> String {
        guard let value = value(name) else {
            throw error("missing required option \(name)")
        }
        return value
    }

    func refusePositionals() throws(CommandUsageError) {
        if let first = positionals.first {
            throw error("unexpected argument '\(first)' for 'credentials \(subcommand)'")
        }
    }

    func error(_ message: String) -> CommandUsageError {
        CommandUsageError(message: message, subcommand: subcommand)
    }
}
