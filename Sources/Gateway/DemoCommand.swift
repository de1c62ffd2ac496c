/// `tokenbridge demo`: filled in once the simulator's server is available.
enum DemoCommand {
    static let usage = """
        Usage: tokenbridge demo [--listen ADDRESS:PORT]
        """

    static func run(_ arguments: [String], output: (String) -> Void, errorOutput: (String) -> Void) -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") {
            output(usage)
            return 0
        }
        errorOutput("demo: not available yet")
        return 1
    }
}
