import Foundation
import Testing

@testable import FactPipe

/// One writer per database: the `flock` on `<db>-factpipe.lock`, what it says, and how loads wait for it.
@Suite struct WriterLockTests {
    @Test func theLockFileSaysWhoHoldsIt() throws {
        let work = try LoadWorkspace()
        let lock = try WriterLock(databasePath: work.databasePath, timeoutSeconds: 0, description: "import of a.txt")
        #expect(lock.path == work.databasePath + "-factpipe.lock")
        #expect(try String(contentsOfFile: lock.path, encoding: .utf8) == "pid \(getpid()), import of a.txt\n")
        withExtendedLifetime(lock) {}
    }

    @Test func aSecondWriterGivesUpAfterItsTimeoutNamingTheFirst() throws {
        let work = try LoadWorkspace()
        let first = try WriterLock(databasePath: work.databasePath, timeoutSeconds: 0, description: "import of a.txt")
        let start = Date()
        do {
            _ = try WriterLock(databasePath: work.databasePath, timeoutSeconds: 0.3, description: "import of b.txt")
            Issue.record("two writers held the lock")
        } catch {
            #expect(error.kind == .busy)
            #expect(error.path == work.databasePath)
            #expect(error.message == "another load is writing to this database (pid \(getpid()), import of a.txt); waited 0.3 s")
        }
        let waited = Date().timeIntervalSince(start)
        #expect(waited >= 0.25 && waited < 3, "waited \(waited) s")
        // The loser did not overwrite what the file says.
        #expect(try String(contentsOfFile: first.path, encoding: .utf8) == "pid \(getpid()), import of a.txt\n")
        withExtendedLifetime(first) {}
    }

    /// An optimize, undo or restore holding the lock is no load: the message says so, and the holder's
    /// words name the command.
    @Test func aWriterWaitingForAnotherCommandDoesNotCallItALoad() throws {
        let work = try LoadWorkspace()
        let optimize = try WriterLock(
            databasePath: work.databasePath, timeoutSeconds: 0, description: "optimize started 2026-12-07T04:00:00Z")
        do {
            _ = try WriterLock(databasePath: work.databasePath, timeoutSeconds: 0, description: "import of b.txt")
            Issue.record("two writers held the lock")
        } catch {
            #expect(error.message == "another factpipe command is writing to this database (pid \(getpid()), "
                + "optimize started 2026-12-07T04:00:00Z); waited 0 s")
        }
        do {
            _ = try WriterLock(
                databasePath: work.databasePath, timeoutSeconds: 5, description: "import of b.txt", isCancelled: { true })
            Issue.record("two writers held the lock")
        } catch {
            #expect(error.kind == .interrupted)
            #expect(error.message.hasPrefix("interrupted while waiting for another factpipe command to finish (pid "))
        }
        withExtendedLifetime(optimize) {}
        // Each holder's words, as a lock file and PostgreSQL's `pg_stat_activity` give them.
        let nouns = [
            "pid 7, import of a.txt started 2026-12-07T04:00:00Z": "another load",
            "pid 7, import into the existing database, started 2026-12-07T04:00:00Z": "another load",
            "pid 7, undo of load 3": "another factpipe command",
            "pid 7, restore of kb.tar.zst": "another factpipe command",
            "server process 7, factpipe import, from local": "another load",
            "server process 7, factpipe optimize, from 10.0.0.2": "another factpipe command",
            "server process 7, factpipe undo 3, from local": "another factpipe command",
            "server process 7, nightly-etl, from local": "another load",
            "holder unknown": "another load",
        ]
        for (holder, noun) in nouns {
            #expect(WriterLock.noun(holder: holder) == noun, "\(holder)")
        }
    }

    @Test func aWaitingWriterGetsTheLockWhenTheFirstLetsGo() throws {
        let work = try LoadWorkspace()
        let holder = LockedValue<WriterLock?>(
            try WriterLock(databasePath: work.databasePath, timeoutSeconds: 0, description: "first"))
        let lockPath = work.databasePath + "-factpipe.lock"
        let released = LockedValue<Date?>(nil)
        let sawWaiting = LockedValue(false)
        Thread.detachNewThread {
            // Lets go once the second writer has the lock file open too, i.e. is waiting for it.
            sawWaiting.set(poll(timeout: 30) { openDescriptors(of: lockPath) == 2 })
            released.set(Date())
            holder.set(nil)
        }
        let second = try WriterLock(databasePath: work.databasePath, timeoutSeconds: 60, description: "second")
        let acquired = Date()
        let when = try #require(released.get())
        #expect(sawWaiting.get(), "the second writer never waited")
        #expect(acquired >= when)
        #expect(try String(contentsOfFile: second.path, encoding: .utf8) == "pid \(getpid()), second\n")
        withExtendedLifetime(second) {}
    }

    @Test func aLoadThatCannotGetTheLockFailsWithoutTouchingTheDatabase() throws {
        let work = try LoadWorkspace()
        let input = try work.write("in.txt", "P(a).\n")
        _ = work.load(input)
        let more = try work.write("more.txt", "P(b).\n")
        do {
            let lock = try WriterLock(
                databasePath: work.databasePath, timeoutSeconds: 0, description: "import of other.txt")
            let summary = work.load(more) { $0.lockTimeoutSeconds = 0 }
            #expect(summary.status == .failed)
            #expect(summary.message?.contains(
                "another load is writing to this database (pid \(getpid()), import of other.txt)") == true,
                "\(summary.message ?? "")")
            #expect(try work.database().ledger().count == 1)
            #expect(try work.database().statements() == ["P(a)."])
            withExtendedLifetime(lock) {}
        }
        // Once it is free the same load goes through.
        let retried = work.load(more) { $0.lockTimeoutSeconds = 0 }
        #expect(retried.status == .done)
    }

    @Test func loadsIntoDifferentDatabasesDoNotWaitForEachOther() throws {
        let one = try LoadWorkspace()
        let two = try LoadWorkspace()
        let lock = try WriterLock(databasePath: one.databasePath, timeoutSeconds: 0, description: "one")
        let summary = two.load(try two.write("in.txt", "P(a).\n")) { $0.lockTimeoutSeconds = 0 }
        #expect(summary.status == .done)
        withExtendedLifetime(lock) {}
    }

    /// A wait is said as it was given: "waited 0 s" for `--wait 0.9`, "waited 1 s" for 1.9.
    @Test func aWaitIsSaidToTheMillisecond() {
        #expect(Duration.wait(seconds: 0.9).saidInSeconds == "0.9")
        #expect(Duration.wait(seconds: 1.9).saidInSeconds == "1.9")
        #expect(Duration.wait(seconds: 0.005).saidInSeconds == "0.005")
        #expect(Duration.wait(seconds: 2.01).saidInSeconds == "2.01")
        #expect(Duration.wait(seconds: 32.3).saidInSeconds == "32.3")
        // Every millisecond from 0.001 to 9.999 s as written (it was cut: 95 of them one millisecond short).
        let wrong = (1...9_999).filter { milliseconds in
            var written = "\(milliseconds / 1_000).\(String(format: "%03d", milliseconds % 1_000))"
            while written.hasSuffix("0") { written.removeLast() }
            if written.hasSuffix(".") { written.removeLast() }
            return Duration.wait(seconds: Double(written) ?? 0).saidInSeconds != written
        }
        #expect(wrong.isEmpty, "\(wrong.prefix(5))")
        #expect(Duration.wait(seconds: 30).saidInSeconds == "30")
        #expect(Duration.wait(seconds: 0).saidInSeconds == "0")
        #expect(Duration.wait(seconds: .infinity).saidInSeconds == "31536000")
    }
}

/// How many descriptors of this process have the file at `path` open (read from /proc/self/fd).
private func openDescriptors(of path: String) -> Int {
    let folder = "/proc/self/fd"
    let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
    return descriptors.filter { (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(folder)/\($0)")) == path }
        .count
}
