import ArgumentParser
import FactPipe

/// Where the operations commands turn an error into a message on standard error and an exit code.
enum CommandFailure {
    /// Prints `factpipe <command>: error: …` and returns the exit code to throw (1: failure).
    static func exit(_ command: String, _ error: any Error) -> ExitCode {
        if let store = error as? StoreError, store.kind == .busy {
            Standard.error("factpipe \(command): error: \(store.path): \(store.message)")
        } else {
            Standard.error("factpipe \(command): error: \(error)")
        }
        return ExitCode(FactPipeExit.failure)
    }
}
