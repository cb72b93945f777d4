import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// SIGINT and SIGTERM end an import within a second also while it waits for input: a FIFO no writer
/// opened, a pipe that stays silent, an input that never ends. A slow producer's batches commit as
/// they fill, so an interrupt loses at most the open one.
@Suite struct InputWaitSignalTests {
    /// The kernel functions a thread waits in for a FIFO's writer or a pipe's next bytes (a pipe's bytes are
    /// waited for with `poll(2)` in steps, so that a cancelled load reads none of them).
    private static let inputWaits: Set<String> = ["wait_for_partner", "fifo_open", "pipe_read", "anon_pipe_read",
                                                  "pipe_wait", "pipe_wait_readable", "poll_schedule_timeout",
                                                  "do_sys_poll"]

    /// The kernel functions a thread sleeps in between two tries of a FIFO without a reader (`usleep`).
    private static let retrySleeps: Set<String> = ["hrtimer_nanosleep", "do_nanosleep"]

    /// True once a thread of `pid` waits in one of `waits` (read from /proc).
    private func isWaiting(_ pid: Int32, in waits: Set<String>) -> Bool {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.contains { task in
            let wchan = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/wchan", encoding: .utf8)) ?? ""
            // `poll_schedule_timeout.constprop.0`: the function's name before the compiler's suffix.
            let function = wchan.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".").first
            return waits.contains(function.map(String.init) ?? "")
        }
    }

    /// Bytes `pid` has read, from /proc/PID/io.
    private func bytesRead(_ pid: Int32) -> Int {
        let io = (try? String(contentsOfFile: "/proc/\(pid)/io", encoding: .utf8)) ?? ""
        let line = io.split(separator: "\n").first { $0.hasPrefix("rchar:") }
        return line.flatMap { Int($0.dropFirst(6).trimmingCharacters(in: .whitespaces)) } ?? 0
    }

    /// Sends `signal` and returns the seconds until the process exited (killing it after 10 s).
    /// Sends `signal` and expects the load to end by itself within 1.5 s with `code`; returns its run.
    @discardableResult
    private func expectStopsPromptly(
        _ load: BackgroundProcess, _ signal: Int32, exitCode code: Int32,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> FactpipeRun {
        let sent = Date()
        kill(load.pid, signal)
        if !poll(timeout: 10, { !load.isRunning }) { load.killNine() }
        let seconds = Date().timeIntervalSince(sent)
        let run = try load.wait()
        #expect(!load.wasKilled && seconds < 1.5, "stopped after \(seconds) s", sourceLocation: sourceLocation)
        #expect(run.status == code, "\(run.stderr)", sourceLocation: sourceLocation)
        return run
    }

    private func waitForSchema(_ work: CLIWorkspace, _ load: BackgroundProcess) throws {
        let ready = poll(timeout: 30) {
            !load.isRunning || readOnlyInt(work.database, "SELECT count(*) FROM factpipe_loads") != nil
        }
        try #require(ready && load.isRunning, "the load did not start")
    }

    @Test func aSignalEndsAnImportWaitingForAFIFOWriter() throws {
        let work = try CLIWorkspace()
        let fifo = work.path("nobody.fifo")
        try #require(mkfifo(fifo, 0o600) == 0)
        let load = try BackgroundProcess(BinaryLocator.factpipe, ["import", fifo, "--db", work.database, "--json"])
        try waitForSchema(work, load)
        #expect(poll(timeout: 20) { isWaiting(load.pid, in: Self.inputWaits) })
        try expectStopsPromptly(load, SIGTERM, exitCode: 143)
    }

    /// Starts a text import of `badRecords` refused lines (one fact and one refusal when 0) with `--rejects`
    /// on a new FIFO, run by `env` with `environment` options first when given; returns it and the FIFO.
    private func loadRejectingIntoAFIFO(
        _ work: CLIWorkspace, badRecords: Int = 0, env environment: [String]? = nil
    ) throws -> (load: BackgroundProcess, fifo: String, reader: Int32?) {
        let lines = badRecords == 0 ? "A(1).\nnot a fact\n" : (0..<badRecords).map { "bad record \($0)\n" }.joined()
        let input = try work.write("in.txt", lines)
        let fifo = work.path("rejects.fifo")
        try #require(mkfifo(fifo, 0o600) == 0)
        // A reader that opens without reading (`badRecords` given): the pipe fills, then waits.
        let reader = badRecords == 0 ? nil : open(fifo, O_RDONLY | O_NONBLOCK)
        if let reader { try #require(reader >= 0) }
        let arguments = ["import", input, "--db", work.database, "--rejects", fifo, "--format", "text"]
        let load = try environment.map {
            try BackgroundProcess(URL(fileURLWithPath: "/usr/bin/env"), $0 + [BinaryLocator.factpipe.path] + arguments)
        } ?? BackgroundProcess(BinaryLocator.factpipe, arguments)
        return (load, fifo, reader)
    }

    /// Bytes a FIFO's reader end holds unread (`FIONREAD`).
    private func bytesWaiting(in reader: Int32) -> Int {
        var waiting: Int32 = 0
        return ioctl(reader, UInt(FIONREAD), &waiting) == 0 ? Int(waiting) : 0
    }

    /// `--rejects` naming a FIFO that no process reads: open(2) waited for a reader where no signal could
    /// end it (signals come through Dispatch sources), and only SIGKILL stopped the load.
    @Test func aSignalEndsAnImportWaitingForAReaderOfItsRejectsFIFO() throws {
        let work = try CLIWorkspace()
        let (load, fifo, _) = try loadRejectingIntoAFIFO(work)
        try waitForSchema(work, load)
        let run = try expectStopsPromptly(load, SIGINT, exitCode: 130)
        #expect(run.stderr.contains("\(fifo) for writing: stopped while waiting for a process to read it"),
                "\(run.stderr)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 0)
    }

    /// Rejects written through a FIFO to a reader that reads slowly (the pipe fills and empties again and
    /// again), and through a pipe as standard output (`--rejects -`), are byte for byte the rejects file a
    /// load of the same input writes.
    @Test func rejectsThroughASlowFIFOOrAPipeAreTheSameBytesAsInAFile() throws {
        let work = try CLIWorkspace()
        let (load, fifo, opened) = try loadRejectingIntoAFIFO(work, badRecords: 5_000)
        let reader = try #require(opened)
        _ = fcntl(reader, F_SETFL, fcntl(reader, F_GETFL) & ~O_NONBLOCK)
        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 8_192)
        // Until the load has ended: before it opens the FIFO and after it closes it, a read finds no writer.
        while true {
            let count = read(reader, &buffer, buffer.count)
            if count > 0 {
                received.append(contentsOf: buffer[0..<count])
                usleep(200)
            } else if load.isRunning {
                usleep(10_000)
            } else {
                break
            }
        }
        close(reader)
        #expect(try load.wait().status == 2)
        let input = work.path("in.txt")
        let file = work.path("rejects.ndjson")
        #expect(try Factpipe.run(["import", input, "--db", work.path("b.sqlite"), "--rejects", file,
                                  "--format", "text", "-q"]).status == 2)
        let expected = try Data(contentsOf: URL(fileURLWithPath: file))
        #expect(expected.count > 500_000)
        #expect(received == expected, "\(received.count) bytes through \(fifo), \(expected.count) in the file")
        let piped = try Factpipe.runProcess(
            URL(fileURLWithPath: "/bin/sh"),
            ["-c", "\"$0\" import \"$1\" --db \"$2\" --rejects - --format text -q | (sleep 0.3; cat)",
             BinaryLocator.factpipe.path, input, work.path("c.sqlite")])
        #expect(piped.stdout == expected, "\(piped.stdout.count) bytes through the pipe")
    }

    /// A reader that comes to the rejects FIFO after the load started gets every rejected record.
    @Test func aReaderThatComesLaterGetsTheRejectsThroughTheFIFO() throws {
        let work = try CLIWorkspace()
        let (load, fifo, _) = try loadRejectingIntoAFIFO(work)
        try waitForSchema(work, load)
        let reader = try #require(FileHandle(forReadingAtPath: fifo))
        let rejects = String(decoding: reader.readDataToEndOfFile(), as: UTF8.self)
        let run = try load.wait()
        #expect(run.status == 2, "\(run.stderr)")
        #expect(rejects.contains("\"record\":\"not a fact\""), "\(rejects)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 1)
    }

    /// A rejects FIFO whose reader opened it and stopped reading: the load's write waited in write(2) for
    /// room in the full pipe, where no signal could end it. It now ends within a second, interrupted.
    @Test func aSignalEndsAnImportWhoseRejectsReaderStoppedReading() throws {
        let work = try CLIWorkspace()
        let (load, _, opened) = try loadRejectingIntoAFIFO(work, badRecords: 5_000)
        let reader = try #require(opened)
        defer { close(reader) }
        // The pipe is full: the load waits for room.
        let full = poll(timeout: 30) { !load.isRunning || bytesWaiting(in: reader) >= 60_000 }
        try #require(full && load.isRunning, "the load did not fill the pipe")
        let run = try expectStopsPromptly(load, SIGINT, exitCode: 130)
        #expect(run.stderr.contains("interrupted"), "\(run.stderr)")
        #expect(try SQLiteFile.strings(work.database, "SELECT status FROM factpipe_loads") == ["interrupted"])
    }

    /// A rejects FIFO whose reader goes away mid-load: SIGPIPE killed the load (its ledger row stayed
    /// `running`, nothing said why). The write now fails: the load stops (1), its ledger says why. The
    /// load runs with SIGPIPE at its default, as from a shell (this test process ignores it).
    @Test func aRejectsReaderThatGoesAwayFailsTheLoadWithItsReason() throws {
        let work = try CLIWorkspace()
        let (load, fifo, opened) = try loadRejectingIntoAFIFO(work, badRecords: 5_000, env: ["--default-signal=PIPE"])
        let reader = try #require(opened)
        let written = poll(timeout: 30) { !load.isRunning || bytesWaiting(in: reader) > 0 }
        close(reader)
        try #require(written, "the load wrote no rejects")
        if !poll(timeout: 20, { !load.isRunning }) { load.killNine() }
        let run = try load.wait()
        #expect(!(run.status == SIGPIPE && load.process.terminationReason == .uncaughtSignal), "killed by SIGPIPE")
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("cannot write to \(fifo): Broken pipe"), "\(run.stderr)")
        #expect(try SQLiteFile.strings(work.database, "SELECT status FROM factpipe_loads") == ["failed"])
    }

    /// A run's snapshot to a FIFO that no process reads, or whose reader opened it and stopped reading once
    /// the pipe was full: the signal ends the wait after the loads (143), in open(2) or in write(2).
    @Test(arguments: [false, true])
    func aSignalEndsARunWaitingForAReaderOfItsSnapshotFIFO(readerOpens: Bool) throws {
        let work = try CLIWorkspace()
        // About 250 KB of snapshot: more than a pipe holds.
        try work.write("in.txt", (0..<2_000).map { "A(\($0)).\n" }.joined())
        let fifo = work.path("snapshot.fifo")
        try #require(mkfifo(fifo, 0o600) == 0)
        let reader = readerOpens ? open(fifo, O_RDONLY | O_NONBLOCK) : -1
        defer { if reader >= 0 { close(reader) } }
        let file = try work.write("p.toml", """
            name = "p"
            database = "kb.sqlite"
            [sources]
            paths = ["in.txt"]
            [after]
            snapshot = "snapshot.fifo"
            """)
        let run = try BackgroundProcess(BinaryLocator.factpipe, ["run", file])
        // Past its load, the run tries the FIFO again every 20 ms, or waits for room in the full pipe (a
        // signal before that is a late interrupt).
        let waiting = poll(timeout: 30) {
            !run.isRunning
                || (readerOpens ? bytesWaiting(in: reader) >= 60_000 : isWaiting(run.pid, in: Self.retrySleeps))
        }
        try #require(waiting && run.isRunning, "the run did not get to its snapshot")
        let result = try expectStopsPromptly(run, SIGTERM, exitCode: 143)
        let step = readerOpens ? "cannot write" : "cannot open for writing"
        #expect(result.stderr.contains("\(fifo): \(step): stopped while waiting for a process to read it"),
                "\(result.stderr)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 2_000)
    }

    @Test func aSignalEndsAnImportReadingASilentPipe() throws {
        let work = try CLIWorkspace()
        let pipe = Pipe()
        let load = try BackgroundProcess(BinaryLocator.factpipe, ["import", "-", "--db", work.database, "--json"],
                                         stdin: pipe.fileHandleForReading)
        defer { try? pipe.fileHandleForWriting.close() }
        try waitForSchema(work, load)
        #expect(poll(timeout: 20) { isWaiting(load.pid, in: Self.inputWaits) })
        try expectStopsPromptly(load, SIGTERM, exitCode: 143)
    }

    @Test func aSignalEndsAnImportOfAnEndlessInput() throws {
        let work = try CLIWorkspace()
        let load = try BackgroundProcess(
            BinaryLocator.factpipe, ["import", "/dev/zero", "--db", work.database, "--max-record-bytes", "1000"])
        try waitForSchema(work, load)
        #expect(poll(timeout: 20) { bytesRead(load.pid) > 5_000_000 })
        try expectStopsPromptly(load, SIGINT, exitCode: 130)
    }

    @Test func aSlowProducerCommitsEachFullBatch() throws {
        let work = try CLIWorkspace()
        let pipe = Pipe()
        let load = try BackgroundProcess(
            BinaryLocator.factpipe, ["import", "-", "--db", work.database, "--batch-size", "5", "--json"],
            stdin: pipe.fileHandleForReading)
        defer { try? pipe.fileHandleForWriting.close() }
        let committed = "SELECT coalesce(max(records), 0) FROM factpipe_loads"
        for index in 0..<12 {
            try pipe.fileHandleForWriting.write(contentsOf: Data("P(a\(index)).\n".utf8))
            if index == 4 || index == 9 {
                let target = index + 1
                #expect(poll(timeout: 15) { (readOnlyInt(work.database, committed) ?? 0) >= target },
                        "batch ending at record \(target) was not committed while the producer waited")
            }
        }
        try expectStopsPromptly(load, SIGINT, exitCode: 130)
        // The two full batches stay; the two records of the open one are rolled back.
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 10)
        #expect(try SQLiteFile.strings(work.database, "SELECT status FROM factpipe_loads") == ["interrupted"])
    }
}
