import Foundation
import Testing

/// Objects another role made on the loading role's `search_path` (a `public` open to every role, the
/// default before PostgreSQL 15) never take the place of factpipe's: its functions call the built-ins
/// by their schema, and the session's batch table is named in `pg_temp`.
@Suite(.enabled(if: PostgreSQLTestServer.isEnabled, PostgreSQLTestServer.skipReason))
struct PostgreSQLShadowingTests {
    /// A `convert_to(text, text)` in `public` is preferred to the built-in `(text, name)` for the literal
    /// `'UTF8'`; this one gives an `Owes` statement the key of `HasPart(car, wheel).`.
    private static let shadowConvertTo = """
        CREATE FUNCTION public.convert_to(text, text) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
            SELECT pg_catalog.convert_to(CASE WHEN $1 LIKE 'Owes%' THEN 'HasPart(car, wheel).' ELSE $1 END, 'UTF8')
        $$
        """

    private func statements(_ database: PostgreSQLTestDatabase) throws -> [String] {
        try database.sql("SELECT statement FROM facts ORDER BY id").map { $0[0] }
    }

    /// A role of its own, which owns nothing else and may not log in.
    private func otherRole(_ database: PostgreSQLTestDatabase) throws -> String {
        let role = "planter_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(12)
        try database.sql("CREATE ROLE \(role) NOLOGIN")
        return role
    }

    /// A `factpipe_statement_key` another role made before the first load kept that role as its owner through
    /// the load's `CREATE OR REPLACE`; it could then give it a constant body (every later new fact counted a
    /// repeat and dropped, exit 0) or one that runs its own statements as whoever loads. The load is refused,
    /// naming the function and its owner, and nothing is made.
    @Test func aKeyFunctionAnotherRoleMadeBeforeTheFirstLoadIsRefused() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let role = try otherRole(database)
        try database.sql("""
            CREATE FUNCTION public.factpipe_statement_key(text) RETURNS bytea LANGUAGE sql IMMUTABLE AS 'SELECT NULL::bytea';
            ALTER FUNCTION public.factpipe_statement_key(text) OWNER TO \(role)
            """)
        let input = try work.write("a.txt", "HasPart(car, wheel).\n")
        let run = try Factpipe.run(["import", input, "--db", database.url])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("refusing to use the function factpipe_statement_key(text): it is owned by the role \(role)"),
                "\(run.stderr)")
        #expect(try database.sql("SELECT to_regclass('facts') IS NULL, to_regclass('factpipe_meta') IS NULL") == [["t", "t"]])
    }

    /// Given to another role once the database is made, factpipe's functions are used by no command that calls
    /// them: the role can change their bodies. Readers call the key function alone (a lookup by statement), so
    /// the merge function of another role keeps only writers out. Given back to the table's owner, every
    /// command goes on.
    @Test func functionsOwnedByAnotherRoleThanTheTablesAreUsedByNoCommand() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        try database.seed("HasPart(car, wheel).\n", in: work)
        let role = try otherRole(database)
        let more = try work.write("b.txt", "IsA(cat, animal).\n")
        for function in ["factpipe_statement_key(text)", "factpipe_json_patch(jsonb, jsonb)"] {
            try database.sql("ALTER FUNCTION \(function) OWNER TO \(role)")
            let readers = [["query", "--db", database.url, "--statement", "HasPart(car, wheel)"],
                           ["stats", "--db", database.url]]
            for arguments in [["import", more, "--db", database.url], ["undo", "1", "--db", database.url]] + readers {
                let run = try Factpipe.run(arguments)
                if function.hasPrefix("factpipe_json_patch"), readers.contains(arguments) {
                    #expect(run.status == 0, "\(arguments): \(run.stderr)")
                    continue
                }
                #expect(run.status == 1, "\(arguments): \(run.stderr)")
                // Named as PostgreSQL spells a signature.
                let named = function.replacingOccurrences(of: ", ", with: ",")
                #expect(run.stderr.contains("refusing to use the function \(named): it is owned by the role \(role)"),
                        "\(arguments): \(run.stderr)")
            }
            try database.sql("ALTER FUNCTION \(function) OWNER TO CURRENT_USER")
        }
        #expect(try database.int("SELECT count(*) FROM facts") == 1)
        #expect(try Factpipe.run(["import", more, "--db", database.url, "-q"]).status == 0)
        #expect(try database.int("SELECT count(*) FROM facts") == 2)
    }

    @Test func aConvertToOfAnotherRoleDoesNotMakeNewFactsDuplicates() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        try database.seed("HasPart(car, wheel).\n", in: work)
        try database.sql(Self.shadowConvertTo)
        let input = try work.write("b.txt", "Owes(alice, bob).\nIsA(cat, animal).\n")

        let run = try Factpipe.run(["import", input, "--db", database.url, "--json", "-q"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(int(try run.json(), "inserted") == 2, "\(run.stdoutText)")
        #expect(int(try run.json(), "duplicates") == 0, "\(run.stdoutText)")
        #expect(try statements(database) == ["HasPart(car, wheel).", "Owes(alice, bob).", "IsA(cat, animal)."])

        let query = try Factpipe.run(["query", "--db", database.url, "--statement", "Owes(alice, bob)"])
        #expect(query.status == 0, "\(query.stderr)")
        #expect(query.stdoutText.contains("Owes(alice, bob)."), "\(query.stdoutText)")
        // The same statement again is a duplicate, not a second row.
        let again = try Factpipe.run(["import", input, "--db", database.url, "--force", "--json", "-q"])
        #expect(int(try again.json(), "duplicates") == 2, "\(again.stdoutText)")
        #expect(try database.int("SELECT count(*) FROM facts") == 3)
    }

    /// A database whose key function still has the body that named no schema gets this build's from the
    /// next load by its owner; a load by a role that may write the tables but does not own the function
    /// leaves it, and the version, as they were. The unique index keeps finding every statement.
    @Test func olderFunctionBodiesAreReplacedByTheirOwnersNextLoad() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let seed = try database.seed("HasPart(car, wheel).\n", in: work)
        try database.sql("""
            CREATE OR REPLACE FUNCTION factpipe_statement_key(text) RETURNS bytea
                LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
                AS $$ BEGIN RETURN sha256(convert_to($1, 'UTF8')); END $$
            """)
        func keyBody() throws -> String {
            try database.sql("SELECT prosrc FROM pg_proc WHERE proname = 'factpipe_statement_key'").first?.first ?? ""
        }
        let other = try work.write("other.txt", "IsA(cat, animal).\n")
        try database.withRole(granted: { role in
            """
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO \(role);
            GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO \(role)
            """
        }) { url in
            let byWriter = try Factpipe.run(["import", other, "--db", url, "--json", "-q"])
            #expect(byWriter.status == 0, "\(byWriter.stderr)")
        }
        #expect(!(try keyBody()).contains("pg_catalog."), "only the owner may replace it")
        #expect(try database.sql("SELECT value FROM factpipe_meta WHERE key = 'schema_version'") == [["2"]])

        try database.sql(Self.shadowConvertTo)
        let input = try work.write("b.txt", "Owes(alice, bob).\n")
        let run = try Factpipe.run(["import", input, "--db", database.url, "--json", "-q"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(int(try run.json(), "inserted") == 1, "\(run.stdoutText)")
        let bodies = try database.sql("""
            SELECT prosrc FROM pg_proc WHERE proname IN ('factpipe_statement_key', 'factpipe_json_patch')
            """).map { $0[0] }
        #expect(bodies.count == 2 && bodies.allSatisfy { $0.contains("pg_catalog.") }, "\(bodies)")
        #expect(try database.sql("SELECT value FROM factpipe_meta WHERE key = 'schema_version'") == [["2"]])
        #expect(try statements(database) == ["HasPart(car, wheel).", "IsA(cat, animal).", "Owes(alice, bob)."])
        let again = try Factpipe.run(["import", seed, "--db", database.url, "--force", "--json", "-q"])
        #expect(int(try again.json(), "duplicates") == 1, "\(again.stdoutText)")
    }

    /// `--on-conflict update` merges with `factpipe_json_patch`; a `jsonb_object_agg(text, jsonb)` of
    /// another role's matches its arguments better than the built-in `("any", "any")`.
    @Test func anAggregateOfAnotherRoleDoesNotMakeTheMerge() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        try database.seed(#"{"statement": "P(a).", "context": {"a": {"b": 1}, "k": 1}}"# + "\n", in: work, name: "s.ndjson")
        try database.sql("""
            CREATE FUNCTION public.forged(jsonb, text, jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
                SELECT pg_catalog.jsonb_build_object('forged', true)
            $$;
            CREATE AGGREGATE public.jsonb_object_agg(text, jsonb) (SFUNC = public.forged, STYPE = jsonb)
            """)
        let input = try work.write("u.ndjson", #"{"statement": "P(a).", "context": {"a": {"b": null, "c": 2}}}"# + "\n")

        let run = try Factpipe.run(["import", input, "--db", database.url, "--on-conflict", "update", "--json", "-q"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(int(try run.json(), "updated") == 1, "\(run.stdoutText)")
        #expect(try database.sql("SELECT context::text FROM facts") == [[#"{"a": {"c": 2}, "k": 1}"#]])
    }

    /// With `pg_temp` after `public` on the path, a `public.factpipe_batch` with a trigger that drops one
    /// fact, lowers every confidence and keeps a copy, gets no row: the load goes to the session's own
    /// (through the direct path's staging and a merge: the table holds a fact before each load).
    @Test func aBatchTableOfAnotherRoleBeforePgTempGetsNoRow() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        try database.seed("HasPart(car, wheel).\n", in: work)
        try database.sql("""
            CREATE TABLE public.factpipe_batch(seq bigint, occurrence int, load_id bigint, line bigint, "offset" bigint,
                statement text, predicate text, subject text, object text, args jsonb, arity int, confidence float8,
                source text, context jsonb, fact_metadata jsonb, created_at timestamptz, given int);
            CREATE TABLE public.loot(statement text);
            CREATE FUNCTION public.tamper() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
                INSERT INTO public.loot VALUES (NEW.statement);
                IF NEW.statement LIKE 'Owes%' THEN RETURN NULL; END IF;
                NEW.confidence := 0.01;
                RETURN NEW;
            END $$;
            CREATE TRIGGER tamper BEFORE INSERT ON public.factpipe_batch FOR EACH ROW EXECUTE FUNCTION public.tamper()
            """)
        let url = database.url + "?options=-csearch_path%3Dpublic%2Cpg_temp"
        let input = try work.write("b.txt", "Owes(alice, bob).\nIsA(cat, animal).\nHasPart(car, wheel).\n")

        for policy in ["ignore", "update"] {
            let run = try Factpipe.run(["import", input, "--db", url, "--on-conflict", policy, "--force", "--json", "-q"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(try statements(database) == ["HasPart(car, wheel).", "Owes(alice, bob).", "IsA(cat, animal)."])
            #expect(try database.sql("SELECT DISTINCT confidence FROM facts") == [["1"]])
            #expect(try database.int("SELECT count(*) FROM public.loot") == 0)
        }
        // Undo's table of the facts another load brought too is the session's as well: load 3 brought
        // again what load 2 inserted, so undoing 2 keeps them, and undoing 3 then removes them.
        try database.sql("CREATE TABLE public.factpipe_undo_owner(fact_id bigint, load_id bigint)")
        let undo = try Factpipe.run(["undo", "2", "--db", url, "--json"])
        #expect(undo.status == 0, "\(undo.stderr)")
        #expect(try statements(database) == ["HasPart(car, wheel).", "Owes(alice, bob).", "IsA(cat, animal)."])
        let undoLast = try Factpipe.run(["undo", "3", "--db", url, "--json"])
        #expect(undoLast.status == 0, "\(undoLast.stderr)")
        #expect(try statements(database) == ["HasPart(car, wheel)."])
    }

    /// Not about the path, but about what a refused load leaves: one refused for a rejects file another
    /// load writes makes no schema in an empty database first.
    @Test func aLoadRefusedForItsRejectsFileLeavesAnEmptyDatabaseEmpty() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", "A(1).\nnot a fact\n")
        let rejects = try work.write("rejects.ndjson", "")
        let held = open(rejects, O_RDWR | O_CLOEXEC)
        defer { close(held) }
        try #require(held >= 0 && flock(held, LOCK_EX | LOCK_NB) == 0)
        let run = try Factpipe.run(["import", input, "--db", database.url, "--rejects", rejects])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("another load is writing it"), "\(run.stderr)")
        #expect(try database.int("SELECT count(*) FROM pg_class WHERE relname IN ('facts', 'factpipe_meta')") == 0)
    }
}
