import ArgumentParser
import FactPipe

#if canImport(Glibc)
import Glibc
#endif

@main
struct FactPipeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "factpipe",
        abstract: "Move facts in and out of SQLite in bulk: streaming, validated, fast.",
        version: FactPipeVersion.current,
        subcommands: [
            ImportCommand.self, ExportCommand.self, VerifyCommand.self, BackupCommand.self, RestoreCommand.self,
            RunCommand.self, LoadsCommand.self, UndoCommand.self,
            OptimizeCommand.self, StatsCommand.self, QueryCommand.self, ScaleTestCommand.self,
            GenerateCommand.self, MonitorCommand.self,
        ]
    )

    /// Parses and runs the command. Under `--json`, an error the command did not report itself (a
    /// usage error, say) is also printed as one JSON object on standard output.
    static func main() {
        // A file that reaches `ulimit -f` (RLIMIT_FSIZE) raises SIGXFSZ, whose default action ended the process
        // at once, silently (exit 153): a load's ledger row stayed `running` and its rejects file ended in a
        // torn line, an export or backup left its temporary files. Set aside, the write fails with EFBIG
        // ("File too large") and the command fails as on a full disk, cleaning up after itself.
        signal(SIGXFSZ, SIG_IGN)
        StandardStreams.reserve()
        refuseStreamsIntoSQLiteFiles()
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            try checkArgumentsAreUTF8()
            try checkNoFileNameReadsAsHelp(arguments)
            var command = try parseAsRoot(arguments)
            // Signal handlers and stages need threads; where none can be started, libdispatch waits for one
            // for ever (the command hung, deaf to signals): fail at once instead.
            try OwnThread.start("command") {}
            try command.run()
            SignalTrap.waitIfStoppingAtOnce()
            try checkOutputWasWritten()
        } catch {
            // A second SIGINT is ending the process with 130; the error of the statement it cancelled is not
            // the command's end (exit 1 when it won the race).
            SignalTrap.waitIfStoppingAtOnce()
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            // Help and the version, factpipe's own text, on standard output, written as every command's output
            // is, so that a write that fails is said below: `factpipe --help > /dev/full` printed nothing, exit 0.
            if code == .success, Standard.failedOutput == nil, !message.isEmpty { Standard.output(message) }
            if let failure = Standard.failedOutput {
                Standard.error("factpipe: cannot write to standard output: \(failure)")
                // Done (0) or done with rejects (2) is not what a run whose output was lost may say.
                if code == .success || code.rawValue == FactPipeExit.doneWithRejects {
                    exit(withError: ExitCode.failure)
                }
            }
            let reason = Self.reason(in: message)
            if code != .success, !(error is ExitCode), arguments.contains("--json"),
                !streamGoesIntoTheDatabase(arguments, "standard output") {
                let name = arguments.first { !$0.hasPrefix("-") } ?? "factpipe"
                Standard.json(CommandFailure.jsonObject(
                    command: name, message: reason.isEmpty ? "\(error)" : reason, exitCode: code.rawValue).text)
            }
            // Not a byte into a database that standard error was sent into: the exit code says it all.
            if streamGoesIntoTheDatabase(arguments, "standard error") { Glibc.exit(code.rawValue) }
            if code == .success { Glibc.exit(0) }
            // The usage error as ArgumentParser words it, with the names it quotes escaped: printed as it was, a
            // file name's escape sequences reached the terminal and its line feeds forged lines of their own.
            let rest = String(decoding: message.utf8.dropFirst(reason.utf8.count), as: UTF8.self)
            if !message.isEmpty { Standard.error(TerminalText.escaped(reason) + TerminalText.escapedKeepingLineFeeds(rest)) }
            Glibc.exit(code.rawValue)
        }
    }

    /// The reason in an ArgumentParser message: the text before the help and usage lines it adds
    /// (`Error: … \nHelp:  --to <to> …\nUsage: …`), whole even when a name it quotes holds a line feed.
    static func reason(in message: String) -> String {
        let ends = ["\nHelp:  ", "\nUsage: "].compactMap { message.range(of: $0)?.lowerBound }
        guard let end = ends.min() else { return message }
        return String(message[..<end])
    }

    /// Ends the process with a usage error (64), before anything is read or written, when standard
    /// output or error is redirected into a SQLite database, log or journal (`1<> kb.sqlite`,
    /// `>> kb.sqlite`): whatever the command printed would land in it. The message goes to standard
    /// error unless that is such a file too; then the exit code says it all.
    private static func refuseStreamsIntoSQLiteFiles() {
        let streams = [(STDOUT_FILENO, "standard output"), (STDERR_FILENO, "standard error")].compactMap {
            descriptor, name in StandardStreams.sqliteFile(writtenBy: descriptor).map { (descriptor, name, $0) }
        }
        guard let (_, name, kind) = streams.first else { return }
        if !streams.contains(where: { $0.0 == STDERR_FILENO }) {
            Standard.error("factpipe: \(name) is redirected into \(kind); what the command prints would be "
                + "written into it. Nothing was done: send \(name) elsewhere")
        }
        Glibc.exit(ExitCode.validationFailure.rawValue)
    }

    /// Refuses (64) an argument that is not UTF-8, such as a file name in Latin-1: the arguments reach
    /// Swift with such bytes replaced by U+FFFD, so a path would name another file (`--db $'kb\xe9.sqlite'`
    /// created and loaded `kb\xef\xbf\xbd.sqlite`, and left the database the user named as it was).
    private static func checkArgumentsAreUTF8() throws {
        for index in 1..<max(1, Int(CommandLine.argc)) {
            guard let raw = CommandLine.unsafeArgv[index], String(validatingCString: raw) == nil else { continue }
            let bytes = UnsafeBufferPointer(
                start: UnsafeRawPointer(raw).assumingMemoryBound(to: UInt8.self), count: strlen(raw))
            let shown = EscapedBytes.shown(bytes)
            throw ValidationError("argument \(index) (\(shown)) is not UTF-8: factpipe cannot name that file or value "
                + "exactly; give names in UTF-8 (rename the file, or reach it through a symlink with a UTF-8 name)")
        }
    }

    /// Refuses (64) a word such as `-hourly.txt`: read as the short options `-h -o -u …`, it printed the
    /// help and exited 0, so `factpipe import -hourly.txt` loaded nothing and said nothing was wrong (a
    /// name without an `h`, `-x.txt`, is refused as an unknown option already). Short options grouped as
    /// they may be (`-qh`, of factpipe's `-q`, `-o` and `-h`), `-o=hourly.txt`, `-help`, and everything
    /// after `--` stay as they are.
    private static func checkNoFileNameReadsAsHelp(_ arguments: [String]) throws {
        for word in arguments.prefix(while: { $0 != "--" }) {
            guard word.hasPrefix("-"), !word.hasPrefix("--"), word.count > 2, word != "-help", !word.contains("="),
                word.dropFirst().contains("h"), !word.dropFirst().allSatisfy({ "qoh".contains($0) })
            else { continue }
            throw ValidationError("\(word) is not an option; a file whose name starts with '-' is given as ./\(word), "
                + "and such a value as --option=\(word)")
        }
    }

    /// True when `stream` ("standard output" or "standard error") is redirected into the `--db`
    /// database's files: what the failure prints there would be written into the database.
    private static func streamGoesIntoTheDatabase(_ arguments: [String], _ stream: String) -> Bool {
        let databases = arguments.indices.compactMap { index -> String? in
            if arguments[index].hasPrefix("--db=") { return String(arguments[index].dropFirst("--db=".count)) }
            return arguments[index] == "--db" && index + 1 < arguments.count ? arguments[index + 1] : nil
        }
        return databases.contains { DatabaseFile.standardStreamsWriting(into: $0).contains(stream) }
    }

    /// Throws `ExitCode.success` when every write to standard output went through (the catch then ends
    /// the command with 0), so that a failed one is reported there.
    private static func checkOutputWasWritten() throws {
        if Standard.failedOutput != nil { throw ExitCode.success }
    }
}
