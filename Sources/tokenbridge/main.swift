import Foundation
import Gateway

let arguments = Array(CommandLine.arguments.dropFirst())

if arguments.first == "credentials" {
    let rest = Array(arguments.dropFirst())
    if rest.isEmpty || rest.contains("--help") || rest.contains("-h") {
        print(GatewayCommandLine.credentialsUsage)
        exit(rest.isEmpty ? GatewayCommandLine.exitUsage : GatewayCommandLine.exitSuccess)
    }
    switch GatewayCommandLine.credentialsContext(rest) {
    case .success(let context):
        exit(runCredentialsCommand(context.arguments, storePath: context.storePath,
                                   knownAccountNames: context.accountNames, output: { print($0) }))
    case .failure(let problem):
        GatewayCommandLine.writeToStandardError("\(problem)\n\n\(GatewayCommandLine.credentialsUsage)")
        exit(GatewayCommandLine.exitUsage)
    }
}

exit(GatewayCommandLine.run(arguments))
