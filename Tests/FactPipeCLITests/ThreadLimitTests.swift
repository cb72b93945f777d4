import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// With the process and thread limit reached (`ulimit -u`, a container's pids limit), libdispatch waits
/// for a thread for ever: import, export and backup hung, holding the writer lock, and no signal ended
/// them. They fail at once now (1), saying why, and leave nothing behind.
@Suite struct ThreadLimitTests {
    /// Runs `arguments` in `work` with no thread to spare: `ulimit -u 1` for a user with a process already
    /// (root ignores the limit, so as `nobody` then, on a copy of the binary in a folder it may use).
    private func runWithoutThreads(_ work: CLIWorkspace, _ arguments: [String]) throws -> FactpipeRun {
        let binary = work.path("factpipe")
        try FileManager.default.copyItem(atPath: BinaryLocator.factpipe.path, toPath: binary)
        // timeout (root's, as the limit binds only the user switched to) ends a command that hangs.
        var prefix = ""
        if geteuid() == 0 {
            _ = try Factpipe.tool("/bin/chown", ["-R", "nobody:nogroup", work.url.path])
            prefix = "timeout -s KILL 60 setpriv --reuid=nobody --regid=nogroup --clear-groups "
        }
        let quoted = arguments.map { "'\($0)'" }.joined(separator: " ")
        let script = "cd '\(work.url.path)' && ulimit -u 1 && exec \(prefix)'\(binary)' \(quoted)"
        return try Factpipe.runProcess(URL(fileURLWithPath: "/bin/bash"), ["-c", script])
    }

    @Test(arguments: [
        ["import", "facts.ndjson", "--db", "new.sqlite"],
        ["export", "--db", "kb.sqlite", "-o", "kb.ndjson.zst"],
        ["backup", "--db", "kb.sqlite", "--to", "backups"],
    ])
    func aCommandThatCannotStartAThreadFailsAtOnceAndLeavesNothing(_ arguments: [String]) throws {
        let work = try CLIWorkspace()
        let input = work.path("facts.ndjson")
        #expect(try Factpipe.run(["generate", "--facts", "2000", "-o", input, "-q"]).status == 0)
        #expect(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 0)
        try FileManager.default.createDirectory(atPath: work.path("backups"), withIntermediateDirectories: false)
        let before = try FileManager.default.contentsOfDirectory(atPath: work.url.path).sorted()
        let started = Date()
        let run = try runWithoutThreads(work, arguments)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(run.stderr.contains("cannot start a thread"), "\(run.stderr)")
        let after = try FileManager.default.contentsOfDirectory(atPath: work.url.path).filter { $0 != "factpipe" }.sorted()
        #expect(after == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.path("backups")).isEmpty)
    }
}
