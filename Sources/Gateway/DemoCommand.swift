/// `tokenbridge demo`: filled in once the simulator's server is available.
enum DemoCommand {
    static func run(_ arguments: [String], output: (String) -> Void, errorOutput: (String) -> Void) -> Int32 {
        errorOutput("demo: not available yet")
        return 1
    }
}
