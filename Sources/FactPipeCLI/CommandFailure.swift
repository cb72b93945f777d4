import ArgumentParser
import FactPipe

/// Where the operations commands turn an error into a message on standard error and an exit code,
/// and, under `--json`, into one JSON object on standard output.
enum CommandFailure {
    /// Prints `factpipe <command>: error: …` (and with `json` the error object on standard output) and
    /// returns the exit code to throw (1: failure).
    static func exit(_ command: String, _ error: any Error, json: Bool = false) -> ExitCode {
        let message: String
        if let store = error as? StoreError, store.kind == .busy {
            message = "\(store.path): \(store.message)"
        } else {
            message = "\(error)"
        }
        Standard.error("factpipe \(command): error: \(message)")
        if json { Standard.output(jsonObject(command: command, message: message, exitCode: FactPipeExit.failure)) }
        return ExitCode(FactPipeExit.failure)
    }

    /// `{"command", "status": "failed", "exit_code", "error"}`: what a failing command prints under `--json`.
    static func jsonObject(command: String, message: String, exitCode: Int32) -> String {
        "{\"command\":\(JSONQuote.quote(command)),\"status\":\"failed\",\"exit_code\":\(exitCode),"
            + "\"error\":\(JSONQuote.quote(message))}"
    }
}
