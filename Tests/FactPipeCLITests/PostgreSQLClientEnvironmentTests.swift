import Foundation
import Testing

/// What libpq takes from the environment, as for `psql`: the `PG*` variables fill in what the URL leaves
/// out, and `~/.pgpass` or `PGPASSFILE` gives the password of a role the server asks one of.
@Suite(.enabled(if: PostgreSQLTestServer.isEnabled, PostgreSQLTestServer.skipReason))
struct PostgreSQLClientEnvironmentTests {
    /// The variables a run starts without, so that only what a test sets reaches libpq.
    private static let cleared = ["PGHOST", "PGHOSTADDR", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD",
                                  "PGPASSFILE", "PGSERVICE", "PGSERVICEFILE"]

    /// Runs `factpipe arguments` with the `PG*` variables cleared, then `environment` set.
    private func run(_ arguments: [String], environment: [String: String]) throws -> FactpipeRun {
        let unset = Self.cleared.flatMap { ["-u", $0] }
        let set = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return try Factpipe.runProcess(URL(fileURLWithPath: "/usr/bin/env"),
                                       unset + set + [BinaryLocator.factpipe.path] + arguments)
    }

    /// The test server's host and port, split.
    private func hostAndPort(_ database: PostgreSQLTestDatabase) throws -> (host: String, port: String) {
        let parts = database.hostAndPort.split(separator: ":").map(String.init)
        try #require(parts.count == 2, "\(database.hostAndPort)")
        return (parts[0], parts[1])
    }

    @Test func pgVariablesFillInAURLThatNamesNothing() throws {
        let database = try PostgreSQLTestDatabase()
        let (host, port) = try hostAndPort(database)
        let work = try CLIWorkspace()
        let input = try work.write("facts.txt", "Named(byTheEnvironment).\nAnother(one).\n")
        let environment = ["PGHOST": host, "PGPORT": port, "PGUSER": "postgres", "PGDATABASE": database.name]
        let load = try run(["import", input, "--db", "postgresql://", "--quiet"], environment: environment)
        #expect(load.status == 0, "\(load.stderr)")
        #expect(try database.int("SELECT count(*) FROM facts") == 2)
        let loads = try run(["loads", "--db", "postgres://", "--json"], environment: environment)
        #expect(loads.status == 0, "\(loads.stderr)")
        #expect(loads.stdoutText.contains("facts.txt"), "\(loads.stdoutText)")

        // The same URL without the variables reaches no server of this test: libpq's defaults (a Unix
        // socket, the user's own name) are not it.
        let without = try run(["import", input, "--db", "postgresql://", "--quiet"],
                              environment: ["PGPORT": port, "PGHOST": "/nonexistent-socket-dir"])
        #expect(without.status == 1)
        #expect(without.stderr.contains("cannot connect"), "\(without.stderr)")
    }

    /// How text and numbers travel is factpipe's, whatever the environment asks: another client encoding
    /// stored `é` as `Ã©` (and hashed it so), and `extra_float_digits = 0` rounded confidences read back.
    @Test func theEnvironmentCannotChangeHowTextAndNumbersTravel() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let statement = "Café(crème, brûlée)."
        let input = try work.write("facts.ndjson", #"{"statement":"\#(statement)","confidence":0.123456789012345678}"# + "\n")
        let environment = ["PGCLIENTENCODING": "LATIN1", "PGOPTIONS": "-c extra_float_digits=0"]
        let load = try run(["import", input, "--db", database.url, "--quiet"], environment: environment)
        #expect(load.status == 0, "\(load.stderr)")
        let hex = statement.utf8.map { String(format: "%02x", $0) }.joined()
        #expect(try database.sql("SELECT encode(convert_to(statement, 'UTF8'), 'hex') FROM facts") == [[hex]])

        let export = try run(["export", "--db", database.url, "-o", "-", "--format", "ndjson", "--level", "0", "--quiet"],
                             environment: environment)
        #expect(export.status == 0, "\(export.stderr)")
        #expect(export.stdoutText.contains(#""statement":"\#(statement)""#), "\(export.stdoutText)")
        #expect(export.stdoutText.contains(#""confidence":0.12345678901234568"#), "\(export.stdoutText)")
    }

    /// Every name resolves in the schema of factpipe's own tables: with another schema's `facts` first on
    /// the search path, a load wrote its rows into that table (and the ledger into `public`); with no
    /// factpipe tables yet, such a `facts` is another program's, refused untouched (a load added indexes).
    @Test func aFactsTableOfAnotherSchemaOnTheSearchPathIsNeverWritten() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        try database.sql("""
            CREATE SCHEMA app; CREATE TABLE app.facts(id bigint PRIMARY KEY, statement text NOT NULL, note text);
            INSERT INTO app.facts VALUES (1, 'mine', 'kept as it is');
            """)
        let appFirst = ["PGOPTIONS": "-c search_path=app,public"]
        let first = try work.write("first.txt", "P(a, b).\n")
        let refused = try run(["import", first, "--db", database.url], environment: appFirst)
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("not created by factpipe"), "\(refused.stderr)")
        #expect(try database.int("SELECT count(*) FROM pg_indexes WHERE schemaname = 'app'") == 1)
        // factpipe's tables in public, then a load with app first on the path: into public.facts.
        #expect(try run(["import", first, "--db", database.url, "-q"], environment: [:]).status == 0)
        let second = try work.write("second.txt", "P(c, d).\n")
        let load = try run(["import", second, "--db", database.url, "-q"], environment: appFirst)
        #expect(load.status == 0, "\(load.stderr)")
        #expect(try database.int("SELECT count(*) FROM public.facts") == 2)
        #expect(try database.sql("SELECT id, statement, note FROM app.facts") == [["1", "mine", "kept as it is"]])
        let stats = try run(["stats", "--db", database.url, "--json"], environment: appFirst)
        #expect(try stats.json()["facts"] as? Int == 2, "\(stats.stdoutText)")
        // The rest of the role's path stays after factpipe's schema: a trigger of the user's that names its
        // own table without a schema finds it (with the path cut to factpipe's schema, every load failed).
        try database.sql("""
            CREATE SCHEMA audit; CREATE TABLE audit.audit_log(statement text);
            CREATE FUNCTION public.log_fact() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN INSERT INTO audit_log VALUES (NEW.statement); RETURN NEW; END $$;
            CREATE TRIGGER log_fact AFTER INSERT ON public.facts FOR EACH ROW EXECUTE FUNCTION public.log_fact();
            """)
        let third = try work.write("third.txt", "P(e, f).\n")
        let logged = try run(["import", third, "--db", database.url, "-q"],
                             environment: ["PGOPTIONS": "-c search_path=app,audit,public"])
        #expect(logged.status == 0, "\(logged.stderr)")
        #expect(try database.sql("SELECT statement FROM audit.audit_log") == [["P(e, f)."]])

        // A first load with another schema's `facts` after the first schema on the path makes its own tables
        // in the first one (it was refused: the other `facts` was found along the path).
        let fresh = try PostgreSQLTestDatabase()
        try fresh.sql("CREATE SCHEMA app; CREATE TABLE app.facts(id int)")
        let firstLoad = try run(["import", first, "--db", fresh.url, "-q"],
                                environment: ["PGOPTIONS": "-c search_path=public,app"])
        #expect(firstLoad.status == 0, "\(firstLoad.stderr)")
        #expect(try fresh.int("SELECT count(*) FROM public.facts") == 1)
        #expect(try fresh.int("SELECT count(*) FROM app.facts") == 0)
    }

    @Test func pgpassInTheHomeFolderOrPGPASSFILEGivesThePassword() throws {
        let database = try PostgreSQLTestDatabase()
        // The role shared with the wrong-password test, whose password is `right`; it may write here.
        let role = try database.passwordRole()
        try database.sql("GRANT CREATE, USAGE ON SCHEMA public TO \(role)")
        let (host, port) = try hostAndPort(database)
        let url = "postgresql://\(role)@\(database.hostAndPort)/\(database.name)"
        let work = try CLIWorkspace()
        let input = try work.write("facts.txt", "Guarded(byAPassword).\n")
        let home = work.path("home")
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)

        // No password anywhere: the server asks for one and the load stops before it starts.
        let none = try run(["import", input, "--db", url], environment: ["HOME": home])
        #expect(none.status == 1)
        #expect(none.stderr.contains("no password supplied"), "\(none.stderr)")
        #expect(try database.int("SELECT count(*) FROM pg_tables WHERE tablename = 'facts'") == 0)

        // ~/.pgpass, which libpq reads only when no one else may (mode 0600).
        let line = "\(host):\(port):\(database.name):\(role):right\n"
        let pgpass = try work.write("home/.pgpass", line)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: pgpass)
        let fromHome = try run(["import", input, "--db", url, "--quiet"], environment: ["HOME": home])
        #expect(fromHome.status == 0, "\(fromHome.stderr)")
        #expect(try database.int("SELECT count(*) FROM facts") == 1)
        #expect(try database.sql("SELECT tableowner FROM pg_tables WHERE tablename = 'facts'") == [[role]])

        // PGPASSFILE names another file, in place of ~/.pgpass.
        let other = try work.write("elsewhere.pgpass", line)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: other)
        try FileManager.default.removeItem(atPath: pgpass)
        let more = try work.write("more.txt", "Guarded(again).\n")
        let fromFile = try run(["import", more, "--db", url, "--quiet"],
                               environment: ["HOME": home, "PGPASSFILE": other])
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        #expect(try database.int("SELECT count(*) FROM facts") == 2)
    }
}
