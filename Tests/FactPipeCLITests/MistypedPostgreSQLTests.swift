import Foundation
import Testing

@testable import FactPipe

/// A PostgreSQL connection typed where factpipe does not read one: libpq's key=value form or a URL with a
/// space before it given as --db made a SQLite file whose name held the password (and the load said
/// done); a URL given as an archive was shown whole, password and all, in the message about a missing file.
@Suite struct MistypedPostgreSQLTests {
    /// `factpipe arguments…` run in `folder`.
    private func run(_ arguments: [String], in folder: String) throws -> FactpipeRun {
        try Factpipe.runProcess(
            URL(fileURLWithPath: "/bin/sh"),
            ["-c", "cd \"$0\" && exec \"$@\"", folder, BinaryLocator.factpipe.path] + arguments)
    }

    @Test(arguments: [
        "host=127.0.0.1 port=5432 user=kb password=KvSecret dbname=kb",
        "dbname = kb password=KvSecret",
        " postgresql://kb:KvSecret@127.0.0.1/kb",
        "channel_binding=require host=127.0.0.1 password=KvSecret",
        "sslpassword=KvSecret",
        "host  =  127.0.0.1  password  =  KvSecret",
        "host\t=127.0.0.1 password\t= 'Kv Secret KvSecret'",
    ])
    func aConnectionStringAsDatabaseIsRefusedWithoutShowingIt(_ text: String) throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", "P(a).\n")
        for command in [
            ["import", input, "--db", text], ["stats", "--db", text], ["export", "--db", text, "-o", "x.ndjson"],
            ["monitor", "--db", text],
        ] {
            let run = try run(command, in: work.url.path)
            #expect(run.status == 64, "\(command): \(run.stderr)")
            #expect(run.stderr.contains("this looks like a PostgreSQL connection"), "\(command): \(run.stderr)")
            #expect(!run.stderr.contains("KvSecret") && !run.stdoutText.contains("KvSecret"), "\(command): \(run.stderr)")
        }
        // A pipeline file's database too, checked before it is resolved against the file's folder.
        let pipeline = work.url.appendingPathComponent("p.toml").path
        try "name = \"p\"\ndatabase = \"\(text)\"\n[sources]\npaths = [\"in.txt\"]\n".write(
            toFile: pipeline, atomically: true, encoding: .utf8)
        let pipelineRun = try run(["run", pipeline], in: work.url.path)
        #expect(pipelineRun.status == 1 && pipelineRun.stderr.contains("p.toml:2: database: this looks like a PostgreSQL"), "\(pipelineRun.stderr)")
        #expect(!pipelineRun.stderr.contains("KvSecret"), "\(pipelineRun.stderr)")
        try FileManager.default.removeItem(atPath: pipeline)
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.url.path).sorted() == ["in.txt"], "no file was created")
        // A file of that name can still be meant, with ./ before it.
        let meant = try run(["import", input, "--db", "./dbname=kb.sqlite", "-q"], in: work.url.path)
        #expect(meant.status == 0, "\(meant.stderr)")
    }

    /// A URL with its password given where a file is expected (an input, `--rejects`, `--report`, `generate -o`),
    /// or spelt as another program spells it (JDBC, SQLAlchemy, one slash), was echoed whole by the message
    /// about that file, on standard error, in `--json` and in the report.
    @Test func aPasswordInAURLWhereAFileIsExpectedIsNeverShown() throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", "P(a).\n")
        let url = "postgresql://kb:PwSecret@127.0.0.1:1/kb"
        for command in [
            ["import", url, "--db", "kb.sqlite", "--json", "--report", "r.json"],
            ["import", input, "--db", "kb.sqlite", "--rejects", url, "--json"],
            ["import", input, "--db", "kb.sqlite", "--report", url, "--json"],
            ["generate", "--facts", "3", "-o", url],
            ["stats", "--db", "postgresql+psycopg2://kb:PwSecret@127.0.0.1:1/kb", "--json"],
            ["import", input, "--db", "jdbc:postgresql://127.0.0.1:1/kb?user=kb&password=PwSecret", "--json"],
            ["import", input, "--db", "postgresql:/kb:PwSecret@127.0.0.1:1/kb", "--json"],
        ] {
            let run = try run(command, in: work.url.path)
            #expect(run.status != 0, "\(command)")
            #expect(!run.stderr.contains("PwSecret") && !run.stdoutText.contains("PwSecret"),
                    "\(command): \(run.stderr) \(run.stdoutText)")
            #expect(run.stderr.contains("kb@127.0.0.1:1") || run.stderr.contains("password=…"), "\(command): \(run.stderr)")
            // Still JSON.
            if command.contains("--json") { #expect((try? run.json()) != nil, "\(command): \(run.stdoutText)") }
        }
        let report = try String(contentsOfFile: work.path("r.json"), encoding: .utf8)
        #expect(!report.contains("PwSecret") && report.contains("postgresql://kb@127.0.0.1:1/kb"), "\(report)")
        #expect((try? JSONSerialization.jsonObject(with: Data(report.utf8))) != nil, "\(report)")
    }

    /// Names that hold a keyword and `=` among other words are files: only libpq's form, nothing but
    /// keyword=value pairs, is refused; and a path written as one (./…, /…) never is.
    @Test(arguments: ["kb port=1.db", "my kb user = bob.db", "./user=x.db", "sub/host=h.db"])
    func aFileNameWithAKeywordInItIsAFile(_ name: String) throws {
        let work = try CLIWorkspace()
        try FileManager.default.createDirectory(atPath: work.path("sub"), withIntermediateDirectories: true)
        let input = try work.write("in.txt", "P(a).\n")
        let run = try run(["import", input, "--db", name, "-q"], in: work.url.path)
        #expect(run.status == 0, "\(name): \(run.stderr)")
        #expect(FileManager.default.fileExists(atPath: work.url.appendingPathComponent(name).path))
        let absolute = try Factpipe.run(["import", input, "--db", work.path("host=h.db"), "-q"])
        #expect(absolute.status == 0, "\(absolute.stderr)")
    }

    @Test func aURLGivenAsAnArchiveIsRefusedWithoutItsPassword() throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        let url = "postgresql://kb:KvSecret@127.0.0.1:1/kb"
        for command in [
            ["export", "--db", work.database, "-o", url], ["verify", url], ["restore", url, "--to", work.path("r.sqlite")],
        ] {
            let run = try Factpipe.run(command)
            #expect(run.status == 64, "\(command): \(run.stderr)")
            #expect(run.stderr.contains("postgresql://kb@127.0.0.1:1/kb: a snapshot or backup is a file"), "\(run.stderr)")
            #expect(!run.stderr.contains("KvSecret"), "\(command): \(run.stderr)")
        }
    }

    @Test func urlsInAMessageLoseTheirPasswords() {
        #expect(PostgreSQLAddress.redactingURLs(in: "x postgresql://u:pw@h/db: cannot create a file in postgresql://u:pw@h")
            == "x postgresql://u@h/db: cannot create a file in postgresql://u@h")
        #expect(PostgreSQLAddress.redactingURLs(in: "'POSTGRES://a:b%40c@h:5/d' and plain text")
            == "'POSTGRES://a@h:5/d' and plain text")
        #expect(PostgreSQLAddress.redactingURLs(in: "no url here: postgres is a word") == "no url here: postgres is a word")
    }
}
