import Foundation
import Testing

/// Arguments that once crashed or leaked: a `--wait` too large to count in milliseconds, and a
/// PostgreSQL address given to `monitor`, which would have been printed and served with its password.
@Suite struct WaitAndMonitorArgumentTests {
    @Test(arguments: ["inf", "1e300", "1e19"])
    func anEndlessWaitLoadsAndUndoesInsteadOfCrashing(_ wait: String) throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", "P(a).\nP(b).\n")
        let load = try Factpipe.run(["import", input, "--db", work.database, "--wait", wait, "--quiet"])
        #expect(load.status == 0, "\(load.stderr)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 2)
        let undo = try Factpipe.run(["undo", "1", "--db", work.database, "--wait", wait])
        #expect(undo.status == 0, "\(undo.stderr)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 0)
    }

    @Test func monitorRefusesAPostgreSQLAddressWithoutShowingItsPassword() throws {
        let run = try Factpipe.run(["monitor", "--db", "postgresql://alice:s3cret@127.0.0.1:1/kb", "--listen", "127.0.0.1:0"])
        #expect(run.status == 64)
        #expect(run.stderr.contains("postgresql://alice@127.0.0.1:1/kb"), "\(run.stderr)")
        #expect(!run.stderr.contains("s3cret") && !run.stdoutText.contains("s3cret"))
    }
}

/// A password with an unencoded `@` is refused before libpq can read part of it as the host.
@Suite struct PostgreSQLAtSignArgumentTests {
    @Test func importRefusesItWithoutShowingAnyPartOfThePassword() throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", "P(a).\n")
        let run = try Factpipe.run(["import", input, "--db", "postgresql://alice:p@ss@127.0.0.1:1/kb"])
        #expect(run.status == 64)
        #expect(run.stderr.contains("%40"), "\(run.stderr)")
        #expect(!run.stderr.contains("p@ss") && !run.stderr.contains("ss@127"), "\(run.stderr)")
    }

    /// The same for a `/` (base64 passwords hold them): libpq would take the password for host and port,
    /// and every message, `--json` and `--report` would have quoted it.
    @Test func importRefusesAnUnencodedSlashWithoutShowingThePassword() throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", "P(a).\n")
        let report = work.path("report.json")
        let run = try Factpipe.run(["import", input, "--db", "postgresql://app:Ab3/xY9+@127.0.0.1:1/kb", "--json",
                                    "--report", report])
        #expect(run.status == 64)
        #expect(run.stderr.contains("%2F"), "\(run.stderr)")
        #expect(!run.stderr.contains("Ab3") && !run.stderr.contains("xY9"), "\(run.stderr)")
        #expect(!run.stdoutText.contains("Ab3"))
        let written = FileManager.default.fileExists(atPath: report) ? try work.read("report.json") : ""
        #expect(!written.contains("Ab3"))
    }
}

/// `--into-existing` is a SQLite store's mode: with a PostgreSQL address it is a usage error before
/// any connection is tried.
@Suite struct IntoExistingPostgreSQLArgumentTests {
    @Test func importRefusesItWithUsageExit() throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", "P(a).\n")
        let run = try Factpipe.run(["import", input, "--into-existing", "--db", "postgresql://alice:s3cret@127.0.0.1:1/kb"])
        #expect(run.status == 64, "\(run.stderr)")
        #expect(run.stderr.contains("--into-existing"), "\(run.stderr)")
        #expect(!run.stderr.contains("s3cret"))
    }
}
