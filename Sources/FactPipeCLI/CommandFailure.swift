import ArgumentParser
import FactPipe

#if canImport(Glibc)
    import Glibc
#endif

/// The one place where a command's error becomes what a user sees: the line on standard error, the
/// exit code (docs/loading.md, "Exit codes"), and under `--json` one object on standard output.
///
/// Every command's `catch` calls `exit(_:_:json:)`; nothing else writes `error:` lines.
struct CommandFailure {
    /// An error in what the command was given rather than in doing it (outputs that clash with
    /// inputs, a pipeline file's bad database path): exit 64, as for a bad option.
    struct Usage: Error, CustomStringConvertible {
        var underlying: any Error
        var description: String { "\(underlying)" }
    }

    /// A failure found by the command itself rather than thrown by the library, said in words; `path`, the
    /// file it is about, when there is one.
    struct Problem: Error, CustomStringConvertible {
        var description: String
        var path: String?
        init(_ description: String, path: String? = nil) {
            self.description = description
            self.path = path
        }
    }

    /// A command a signal stopped, having rolled back what it did: exit 130/143/129/131, and under `--json`
    /// `status` `interrupted` with that code.
    struct Interrupted: Error, CustomStringConvertible {
        var underlying: any Error
        var code: Int32
        var description: String { "\(underlying)" }
    }

    /// The command's name, as in `factpipe <command>: error: …`.
    var command: String
    var error: any Error

    /// What follows `factpipe <command>: error: `: one line naming the file and the reason. (A PostgreSQL URL
    /// given where a file was expected loses its password where every message does: `Standard`.)
    var message: String {
        if let store = error as? StoreError, store.kind == .busy {
            // Waiting for a lock is about the database, not the statement that waited.
            return "\(store.path): \(store.reason)"
        }
        return "\(error)"
    }

    /// The exit code: 64 for usage errors, the code itself for an `ExitCode`, 1 for every other failure.
    var exitCode: Int32 {
        switch error {
        case let code as ExitCode: code.rawValue
        case let interrupted as Interrupted: interrupted.code
        case is Usage, is ValidationError: FactPipeExit.usage
        default: FactPipeExit.failure
        }
    }

    /// The `--json` object: an archive command's error as `SnapshotError.json` has it (`status`,
    /// `error` kind, `path`, `message`) with `command` and `exit_code`, any other as
    /// `{"command", "status", "exit_code", "error"}` (`jsonObject(command:…)`).
    var jsonObject: JSONDocument {
        if let snapshot = error as? SnapshotError, case .object(let members) = snapshot.jsonDocument {
            return .object([.init("command", .string(command))] + members + [.init("exit_code", .int(Int(exitCode)))])
        }
        let path: String? = switch error {
        case let problem as Problem: problem.path
        case let store as StoreError: store.path
        default: nil
        }
        return Self.jsonObject(
            command: command, message: message, exitCode: exitCode, status: error is Interrupted ? "interrupted" : "failed",
            kind: error is StoreError || error is PostgreSQLError ? "database" : nil, path: path)
    }

    /// The commands whose `--json` failure always gives `error` as a kind, with `path` and `message`
    /// (docs/snapshots.md): scripts tell their failures apart by the kind.
    static let archiveCommands: Set<String> = ["export", "backup", "restore"]

    /// Prints `factpipe <command>: error: …` (and with `json` the error object on standard output) and
    /// returns the exit code to throw.
    static func exit(_ command: String, _ error: any Error, json: Bool = false) -> ExitCode {
        // The error of a statement a signal's handler interrupted, as it ends the process: not the command's end.
        SignalTrap.waitIfStoppingAtOnce()
        let failure = CommandFailure(command: command, error: error)
        if json { Standard.json(failure.jsonObject.text) }
        // One line: a line feed in a name it quotes (a file `a\nfactpipe: done`) forged a line of its own.
        Standard.error("factpipe \(command): error: " + TerminalText.escaped(failure.message))
        return ExitCode(failure.exitCode)
    }

    /// `{"command", "status": "failed", "exit_code", "error"}`: what a failing command prints under `--json`.
    /// An archive command's (`archiveCommands`) gives `error` as a kind — `kind`, else `usage` for a usage error,
    /// `interrupted` after a signal, `io` for any other (a report that could not be written) — with `path` (null
    /// when the failure names no file) and `message`: a report that could not be written, or an option refused,
    /// gave the sentence as `error`, which no script matching the kinds expects.
    static func jsonObject(
        command: String, message: String, exitCode: Int32, status: String = "failed", kind: String? = nil,
        path: String? = nil
    ) -> JSONDocument {
        // ArgumentParser's words start usage errors so: the object holds the reason alone.
        let reason = message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message
        guard archiveCommands.contains(command) else {
            return ["command": .string(command), "status": .string(status), "exit_code": .int(Int(exitCode)),
                    "error": .string(reason)]
        }
        let kind = kind ?? (exitCode == FactPipeExit.usage ? "usage" : (status == "interrupted" ? "interrupted" : "io"))
        return ["command": .string(command), "status": .string(status), "error": .string(kind),
                "path": .optional(path), "message": .string(reason), "exit_code": .int(Int(exitCode))]
    }
}

/// A command whose output a reader may stop reading (`factpipe query … | head`): SIGPIPE ended it at once,
/// with its database open, and SQLite's `-wal` and `-shm` files stayed beside it. The signal is set aside
/// while the command runs, so that the write fails, the command unwinds and closes the database, and then
/// it ends by SIGPIPE as a filter does (141, no message), the stopped reader being no error of its own.
enum ClosedOutput {
    static func deferSIGPIPE() {
        signal(SIGPIPE, SIG_IGN)
    }

    /// After a failure: when standard output's reader is gone, ends the process by SIGPIPE — unless a signal's
    /// clean-up is ending it (`InterruptCleanup`): a reader stopped by the same signal (a closed terminal, the
    /// process group's SIGTERM) made an export that had said "interrupted" end with 141 instead of the code it
    /// documents for the signal (129, 143). The signal reaches its handler a moment after the write failed, so
    /// a tenth of a second is given for it.
    static func endIfReaderIsGone() {
        SignalTrap.waitIfStoppingAtOnce()
        guard StandardStreams.outputReaderIsGone else { return }
        usleep(100_000)
        SignalTrap.waitIfStoppingAtOnce()
        signal(SIGPIPE, SIG_DFL)
        raise(SIGPIPE)
    }
}
