import Credentials
import Foundation

/// `tokenbridge credentials create|list|revoke ...` on the store at `storePath`.
///
/// `arguments` are those after `credentials` (`--config` already resolved to `storePath`).
/// Results go to `output` (one block of lines per call, no trailing newline; `print` suits it);
/// error messages go to standard error, so `--json` output stays clean for programs.
/// With `knownAccountNames` (the configuration's accounts), `create` refuses any other `--account`.
/// Returns the exit status: 0 success, 1 failure, 2 usage error.
func runCredentialsCommand(
    _ arguments: [String], storePath: String, knownAccountNames: Set<String>? = nil, output: (String) -> Void
) -> Int32 {
    CredentialsCommandLine.run(
        arguments, storePath: storePath, knownAccountNames: knownAccountNames,
        output: output,
        errorOutput: { message in
            FileHandle.standardError.write(Data((message + "\n").utf8))
        })
}
