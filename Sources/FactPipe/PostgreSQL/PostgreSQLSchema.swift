/// The tables, indexes and version of a factpipe database in PostgreSQL: the SQLite store's columns
/// (`FactSchema`) in native types.
///
/// Statements are unique through a unique index on their SHA-256 (`factpipe_statement_key`), not on
/// the text: a B-tree entry is limited to about 2.7 KB and statements may be 10 KiB or more. Every
/// upsert names that expression (`ON CONFLICT (factpipe_statement_key(statement))`) and every lookup
/// by statement compares both the key and the text. The function is immutable because the schema is
/// only created in UTF-8 databases, where `convert_to(…, 'UTF8')` never changes.
///
/// Inside factpipe's functions every built-in is named with its schema (`pg_catalog.convert_to`): a
/// function of another role's, in a schema on the caller's path, is otherwise preferred to the built-in
/// wherever its argument types match a literal better (`convert_to(text, text)` over the built-in's
/// `(text, name)`), and would decide which statements are the same. The session's batch table is
/// named `pg_temp.factpipe_batch` for the same reason: a path that lists `pg_temp` after `public` finds
/// a `public.factpipe_batch` first.
///
/// `--on-conflict update` merges `context` and `fact_metadata` with `factpipe_json_patch`, RFC 7396 as
/// SQLite's `json_patch` does it (nested objects merged key by key, a `null` deletes the key).
///
/// `factpipe_meta` holds the schema version and the database's identity (`DatabaseIdentity`). A database
/// whose `facts` table exists without it (or with a version this build does not know) was not made by
/// factpipe, and is refused untouched. Version 1
/// lacked `factpipe_json_patch`: a load adds it in place (`migrations`); readers take either version.
/// Functions made before their built-ins were named with their schema get their new bodies from the
/// next load by their owner (`refreshFunctionBodies`); the tables are the same, so the version is too,
/// and another role's load, which may not replace them, does not mark the database as if it had.
enum PostgreSQLSchema {
    /// The schema version kept in `factpipe_meta`.
    static let version = 2

    /// RFC 7396 JSON merge patch of `target` by `patch`, as SQLite's `json_patch`: a patch that is not an
    /// object replaces the target; an object's members are merged one by one, recursively, and a member
    /// whose value is `null` removes the target's. A patch without nested objects or nulls is `||`.
    static let createJSONPatch = """
        CREATE OR REPLACE FUNCTION factpipe_json_patch(target jsonb, patch jsonb) RETURNS jsonb
            LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
            AS $$
            BEGIN
                IF pg_catalog.jsonb_typeof(patch) IS DISTINCT FROM 'object'::text THEN
                    RETURN patch;
                END IF;
                IF pg_catalog.jsonb_typeof(target) IS DISTINCT FROM 'object'::text THEN
                    target := '{}'::jsonb;
                END IF;
                IF NOT EXISTS (SELECT FROM pg_catalog.jsonb_each(patch)
                        WHERE pg_catalog.jsonb_typeof(value) IN ('object'::text, 'null'::text)) THEN
                    RETURN target || patch;
                END IF;
                RETURN (SELECT coalesce(pg_catalog.jsonb_object_agg(key, value), '{}'::jsonb) FROM (
                    SELECT key, value FROM pg_catalog.jsonb_each(target) WHERE NOT patch ? key
                    UNION ALL
                    SELECT key, factpipe_json_patch(target -> key, value) FROM pg_catalog.jsonb_each(patch)
                    WHERE pg_catalog.jsonb_typeof(value) <> 'null'::text
                ) AS merged);
            END
            $$
        """

    /// The unique key of a statement: its SHA-256. PL/pgSQL rather than SQL, because an index expression
    /// calls a SQL function through the executor on every row: the unique index builds in 0.74× the time
    /// and `INSERT … ON CONFLICT` runs in 0.88× (1M and 50k rows). The value is the same in both.
    static let createStatementKey = """
        CREATE OR REPLACE FUNCTION factpipe_statement_key(text) RETURNS bytea
            LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
            AS $$ BEGIN RETURN pg_catalog.sha256(pg_catalog.convert_to($1, 'UTF8'::pg_catalog.name)); END $$
        """

    /// Gives a function of factpipe's this build's body when the role may (only the function's owner can
    /// replace it): the value is the same, so an index on it stays valid. Another role leaves the body it
    /// has (for the key function of version 1, SQL: slower but equal).
    static func replaceWhenOwned(_ signature: String, by create: String) -> String {
        """
        DO $upgrade$ BEGIN
            IF pg_catalog.pg_has_role(current_user, (SELECT proowner FROM pg_catalog.pg_proc WHERE oid =
                    '\(signature)'::pg_catalog.regprocedure), 'USAGE') THEN
                EXECUTE $body$\(create)$body$;
            END IF;
        END $upgrade$
        """
    }

    /// What brings a database at version `n - 1` (the key) to version `n`, in the writer's transaction.
    /// Version 2 adds `factpipe_json_patch` and gives version 1's key function its PL/pgSQL body.
    static let migrations: [Int: String] = [
        2: createJSONPatch + ";\n" + replaceWhenOwned("factpipe_statement_key(text)", by: createStatementKey)
    ]

    /// Gives factpipe's functions this build's bodies where one still calls a built-in without its schema
    /// and the role owns it; nothing (not even a lock) when every body is current. The values are the same,
    /// so the unique index stays valid.
    static func refreshFunctionBodies(_ connection: PostgreSQLConnection) throws(PostgreSQLError) {
        let stale = try connection.execute("""
            SELECT p.proname FROM pg_catalog.pg_proc AS p
            WHERE p.oid IN ('factpipe_statement_key(text)'::pg_catalog.regprocedure,
                'factpipe_json_patch(jsonb, jsonb)'::pg_catalog.regprocedure)
            AND p.prosrc NOT LIKE '%pg_catalog.%'
            """)
        guard stale.rowCount > 0 else { return }
        try inTransaction(connection) { () throws(PostgreSQLError) in
            try connection.executeScript(
                replaceWhenOwned("factpipe_statement_key(text)", by: createStatementKey) + ";\n"
                    + replaceWhenOwned("factpipe_json_patch(jsonb, jsonb)", by: createJSONPatch))
        }
    }

    /// Adds `factpipe_loads.rules` (the rules a load checks its records by, `ValidationRules`) to a database
    /// made before it, where the role owns the table; nothing (not even a lock) when it is there. The version
    /// stays: a column more is nothing an earlier build reads. Where the role cannot add it, loads record no
    /// rules and their resumes are not checked against them, as before.
    static func addRulesColumn(_ connection: PostgreSQLConnection) throws(PostgreSQLError) {
        guard try !hasRulesColumn(connection) else { return }
        let owned = try connection.execute("""
            SELECT pg_catalog.pg_has_role(relowner, 'USAGE') FROM pg_catalog.pg_class
            WHERE oid = 'factpipe_loads'::pg_catalog.regclass
            """)
        guard owned.rowCount > 0, owned.bool(0, 0) else { return }
        try connection.execute("ALTER TABLE factpipe_loads ADD COLUMN IF NOT EXISTS rules text")
    }

    /// True when `factpipe_loads` has the `rules` column (`addRulesColumn`).
    static func hasRulesColumn(_ connection: PostgreSQLConnection) throws(PostgreSQLError) -> Bool {
        try connection.execute("""
            SELECT 1 FROM pg_catalog.pg_attribute
            WHERE attrelid = 'factpipe_loads'::pg_catalog.regclass AND attname = 'rules' AND NOT attisdropped
            """).rowCount > 0
    }

    static let createTables = """
        CREATE TABLE factpipe_meta(
            key text PRIMARY KEY,
            value text NOT NULL
        );
        \(createStatementKey);
        CREATE TABLE facts(
            id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            statement text NOT NULL,
            predicate text NOT NULL,
            subject text NOT NULL,
            object text,
            args jsonb NOT NULL,
            arity integer NOT NULL,
            confidence double precision NOT NULL DEFAULT 1.0,
            source text,
            context jsonb NOT NULL DEFAULT '{}',
            fact_metadata jsonb NOT NULL DEFAULT '{}',
            created_at timestamptz NOT NULL,
            load_id bigint,
            updated_load_id bigint
        );
        CREATE UNIQUE INDEX facts_statement ON facts (factpipe_statement_key(statement));
        CREATE TABLE factpipe_loads(
            id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            source text NOT NULL,
            source_size bigint,
            source_sha256 text,
            format text,
            compression text,
            conflict_policy text NOT NULL,
            started_at timestamptz NOT NULL,
            finished_at timestamptz,
            status text NOT NULL,
            records bigint NOT NULL DEFAULT 0,
            inserted bigint NOT NULL DEFAULT 0,
            updated bigint NOT NULL DEFAULT 0,
            duplicates bigint NOT NULL DEFAULT 0,
            rejected bigint NOT NULL DEFAULT 0,
            warnings bigint NOT NULL DEFAULT 0,
            checkpoint_offset bigint NOT NULL DEFAULT 0,
            checkpoint_line bigint NOT NULL DEFAULT 1,
            rejects_path text,
            rejects_offset bigint NOT NULL DEFAULT 0,
            message text,
            rules text
        );
        CREATE INDEX factpipe_loads_source ON factpipe_loads (source, id);
        CREATE TABLE factpipe_assertions(
            load_id bigint NOT NULL,
            fact_id bigint NOT NULL
        );
        \(createJSONPatch);
        """

    /// Secondary indexes for the knowledge base's lookups, as in SQLite (`FactSchema.secondaryIndexes`); a
    /// bulk load into an empty or small table drops them and builds them after.
    static let secondaryIndexes: [(name: String, sql: String)] = [
        ("facts_subject", "CREATE INDEX IF NOT EXISTS facts_subject ON facts (subject)"),
        ("facts_predicate_subject",
         "CREATE INDEX IF NOT EXISTS facts_predicate_subject ON facts (predicate, subject)"),
    ]

    /// The schema of the `facts` the role's `search_path` finds (the one every statement names), as SQL:
    /// not always `current_schema()`, the first schema of the path that exists, which may be the role's
    /// own while `facts` is in `public`.
    static let factsSchema = """
        (SELECT n.nspname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
        WHERE c.oid = to_regclass('facts'))
        """

    /// Whether the index `name` of `facts` is as `sql` (one of `secondaryIndexes`, or the unique index) makes
    /// it: a plain B-tree on the same columns or key, ascending, under their own collation and operator class,
    /// over every row, unique as `sql` says (as `FactSchema.isFactpipes` in SQLite). A bulk load drops and
    /// builds only such an index: one of the same name that the user defined otherwise was replaced by
    /// factpipe's definition.
    static func isFactpipes(index name: String, sql: String, _ connection: PostgreSQLConnection)
        throws(PostgreSQLError) -> Bool {
        // The key function is named with its schema when the search path does not find it.
        let result = try connection.execute("""
            SELECT regexp_replace(substring(pg_get_indexdef(i.indexrelid) from ' USING (.*)$'),
                '[^ (]+\\.factpipe_statement_key\\(', 'factpipe_statement_key(')
            FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid
            WHERE i.indrelid = to_regclass('facts') AND c.relname = $1 AND i.indisunique = $2::boolean
            """, [name, sql.contains("UNIQUE") ? "true" : "false"])
        guard result.rowCount == 1 else { return false }
        return result.text(0, 0) == "btree (" + FactSchema.columns(of: sql).joined(separator: ", ") + ")"
    }

    /// Throws when `facts` has an index named `facts_statement` that is not factpipe's unique index
    /// (`isFactpipes`): a load into an empty table dropped it and built factpipe's, and the merges of any
    /// other load name factpipe's key in `ON CONFLICT`, which another definition does not serve.
    static func checkUniqueIndex(_ connection: PostgreSQLConnection) throws(PostgreSQLError) {
        let name = PostgreSQLDirectLoad.uniqueIndex
        let found = try connection.execute("""
            SELECT pg_get_indexdef(i.indexrelid) FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid
            WHERE i.indrelid = to_regclass('facts') AND c.relname = $1
            """, [name])
        guard found.rowCount == 1, let definition = found.text(0, 0),
              try !isFactpipes(index: name, sql: PostgreSQLDirectLoad.createUniqueIndex, connection) else { return }
        throw PostgreSQLError(
            server: connection.server,
            message: "refusing to load: the index \(name) is not factpipe's (\(definition)); loads keep statements "
                + "unique through `\(PostgreSQLDirectLoad.createUniqueIndex)`: put that back or give yours another "
                + "name (nothing was loaded)")
    }

    /// The secondary indexes `facts` has now.
    static func existingSecondaryIndexes(_ connection: PostgreSQLConnection) throws(PostgreSQLError) -> Set<String> {
        let result = try connection.execute("""
            SELECT indexname FROM pg_indexes WHERE schemaname = \(factsSchema) AND tablename = 'facts'
            """)
        return Set((0..<result.rowCount).compactMap { result.text($0, 0) })
    }

    /// For the rest of the transaction, no `statement_timeout` (a role's or a database's): for the index builds
    /// and merges a load must finish before any other can start. Under a timeout every batch fitted, a load
    /// larger than the table dropped its secondary indexes and could not build them again, and every later
    /// load failed on that build (a first load left `facts` without its unique index, and no load, resume,
    /// undo or optimize could go on).
    static let noStatementTimeout = "SET LOCAL statement_timeout = 0"

    /// The session's table for one batch, as every statement names it: in the session's own schema,
    /// whatever the path puts before it.
    static let batchTable = "pg_temp.factpipe_batch"

    /// The session's table for one batch: COPY fills it, the merge empties it. Temporary (never logged,
    /// gone with the session), so a killed load leaves nothing of an uncommitted batch behind.
    static let createBatchTable = """
        CREATE TEMP TABLE IF NOT EXISTS factpipe_batch(
            seq bigint NOT NULL,
            occurrence integer NOT NULL,
            load_id bigint NOT NULL,
            line bigint NOT NULL,
            "offset" bigint NOT NULL,
            statement text NOT NULL,
            predicate text NOT NULL,
            subject text NOT NULL,
            object text,
            args jsonb NOT NULL,
            arity integer NOT NULL,
            confidence double precision NOT NULL,
            source text,
            context jsonb NOT NULL,
            fact_metadata jsonb NOT NULL,
            created_at timestamptz NOT NULL,
            given integer NOT NULL
        )
        """

    /// The unique key of a statement, as the index and every upsert spell it.
    static func key(_ column: String) -> String { "factpipe_statement_key(\(column))" }

    /// A constant for `pg_advisory_lock`: one factpipe writer per database ("fpip" as an integer).
    static let writerLockKey: Int64 = 0x6670_6970
    /// A constant for `pg_advisory_xact_lock_shared`: held by each index build of a load for the build's
    /// transaction. The server goes on with a build whose load was killed (`kill -9`), and a writer waits
    /// for it before it builds the same index ("fpiq").
    static let indexBuildsLockKey: Int64 = 0x6670_6971

    /// What the database at `connection` holds: nothing of factpipe's, factpipe's schema at `version`, or
    /// a `facts` table that factpipe did not make.
    enum State: Equatable {
        case empty
        case factpipe(version: Int)
        case foreign(String)
    }

    /// Reads the state of the connection's current schema (the first of its `search_path`).
    static func state(_ connection: PostgreSQLConnection) throws(PostgreSQLError) -> State {
        // In the schema first on the path (the connection put factpipe's there): a `facts` of a schema after
        // it (`search_path = public, app` with `app.facts`) is not this database's, and a first load makes
        // its own in the first schema.
        let tables = try connection.execute("""
            SELECT to_regclass(quote_ident(current_schema()) || '.facts') IS NOT NULL,
            to_regclass(quote_ident(current_schema()) || '.factpipe_meta') IS NOT NULL,
            to_regclass(quote_ident(current_schema()) || '.factpipe_loads') IS NOT NULL
            """)
        let hasFacts = tables.bool(0, 0), hasMeta = tables.bool(0, 1), hasLoads = tables.bool(0, 2)
        if !hasFacts && !hasMeta && !hasLoads { return .empty }
        guard hasMeta else {
            return .foreign("its facts table was not created by factpipe (there is no factpipe_meta table)")
        }
        let version = try connection.execute("SELECT value FROM factpipe_meta WHERE key = 'schema_version'")
        guard version.rowCount == 1, let text = version.text(0, 0), let number = Int(text) else {
            return .foreign("factpipe_meta has no schema_version")
        }
        guard hasFacts && hasLoads else { return .foreign("factpipe_meta is there but facts or factpipe_loads is not") }
        return .factpipe(version: number)
    }

    /// Refuses, for a reader, a database without factpipe's schema at a version this build knows; returns
    /// the version.
    @discardableResult
    static func checkReadable(_ connection: PostgreSQLConnection) throws(PostgreSQLError) -> Int {
        switch try state(connection) {
        case .factpipe(let found) where (1...version).contains(found):
            // A reader calls the key function alone (a lookup by statement).
            try checkFunctionOwners(connection, of: ["factpipe_statement_key(text)"])
            return found
        case .factpipe(let found):
            throw PostgreSQLError(
                server: connection.server, message: "schema version \(found) is not one this factpipe knows")
        case .foreign(let reason):
            throw PostgreSQLError(server: connection.server, message: "not a factpipe database: \(reason)")
        case .empty:
            throw PostgreSQLError(
                server: connection.server, message: "not a factpipe database: it has no facts table (nothing was "
                    + "imported into it yet)")
        }
    }

    /// Creates the schema when the database has none, or brings an earlier version to this one, in one
    /// transaction; refuses a foreign one untouched. The caller holds the writer lock.
    /// - Throws: `PostgreSQLError` for a foreign database, an unknown version, a database that is not
    ///   UTF-8, or the server's error.
    static func prepare(_ connection: PostgreSQLConnection) throws(PostgreSQLError) {
        let state = try state(connection)
        if case .foreign(let reason) = state {
            throw PostgreSQLError(server: connection.server, message: "refusing to write: \(reason); it is left untouched")
        }
        try checkEncoding(connection)
        switch state {
        case .factpipe(let found) where found < version && found >= 1:
            try inTransaction(connection) { () throws(PostgreSQLError) in
                for step in (found + 1)...version {
                    if let sql = migrations[step] { try connection.executeScript(sql) }
                }
                try connection.execute(
                    "UPDATE factpipe_meta SET value = $1 WHERE key = 'schema_version'", ["\(version)"])
            }
            try checkFunctionOwners(connection)
            try refreshFunctionBodies(connection)
            try addRulesColumn(connection)
            try giveDatabaseID(connection)
        case .factpipe(let found):
            guard found == version else {
                throw PostgreSQLError(
                    server: connection.server,
                    message: "schema version \(found) is not one this factpipe knows (it writes version \(version)); "
                        + "use the factpipe that made it")
            }
            try checkFunctionOwners(connection)
            try refreshFunctionBodies(connection)
            try addRulesColumn(connection)
            try giveDatabaseID(connection)
        case .foreign:
            return  // refused above, before the encoding is asked
        case .empty:
            try inTransaction(connection) { () throws(PostgreSQLError) in
                try connection.executeScript(createTables)
                // `CREATE OR REPLACE` keeps the owner of a function another role made there before.
                try checkFunctionOwners(connection)
                for index in secondaryIndexes { try connection.execute(index.sql) }
                try connection.execute(
                    "INSERT INTO factpipe_meta(key, value) VALUES ('schema_version', $1), ($2, $3)",
                    ["\(version)", DatabaseIdentity.key, DatabaseIdentity.text(DatabaseIdentity.newValue())])
            }
        }
    }

    /// Refuses factpipe's functions when one is owned by another role than `facts`, no superuser, and not the role
    /// running the command (which made `factpipe_json_patch` when it brought a database made by an earlier
    /// release to this version without owning `facts`; a later command of `facts`' owner refuses it). Its owner
    /// can replace its body at any time: a role with `CREATE` on `public` that made `factpipe_statement_key`
    /// before the first load kept it through that load's `CREATE OR REPLACE`, then gave it a constant body —
    /// every later new fact was counted a repeat and dropped, exit 0 — or one that ran its own statements
    /// with the privileges of whoever loaded or looked a statement up (a superuser's: `ALTER ROLE … SUPERUSER`).
    /// Checked before either function is called: by writers for both, by readers for the key function alone
    /// (the one a lookup by statement calls), so that readers go on where a loader owns the other.
    static func checkFunctionOwners(
        _ connection: PostgreSQLConnection,
        of functions: [String] = ["factpipe_statement_key(text)", "factpipe_json_patch(jsonb, jsonb)"]
    ) throws(PostgreSQLError) {
        let foreign = try connection.execute("""
            SELECT p.oid::pg_catalog.regprocedure::text, pg_catalog.pg_get_userbyid(p.proowner),
                pg_catalog.pg_get_userbyid(c.relowner)
            FROM pg_catalog.pg_proc AS p, pg_catalog.pg_class AS c
            WHERE p.oid IN (SELECT pg_catalog.to_regprocedure(name) FROM pg_catalog.unnest($1::text[]) AS name)
            AND c.oid = pg_catalog.to_regclass('facts') AND p.proowner <> c.relowner
            AND NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.oid = p.proowner)
            AND p.proowner <> (SELECT r.oid FROM pg_catalog.pg_roles AS r WHERE r.rolname = current_user)
            ORDER BY 1 LIMIT 1
            """, ["{" + functions.map { "\"\($0)\"" }.joined(separator: ",") + "}"])
        guard foreign.rowCount > 0 else { return }
        let function = foreign.text(0, 0) ?? "", owner = foreign.text(0, 1) ?? "", tableOwner = foreign.text(0, 2) ?? ""
        throw PostgreSQLError(
            server: connection.server,
            message: "refusing to use the function \(function): it is owned by the role \(owner), not by the owner of "
                + "facts (\(tableOwner)), so that role can change what it computes (every new fact taken for a repeat) "
                + "or run its own statements as whoever calls it; check its body (\\df+ \(function)), and if it is "
                + "factpipe's, give it to \(tableOwner) (ALTER FUNCTION \(function) OWNER TO \(tableOwner)); else drop it "
                + "(and restore the database, if facts were loaded while it was there)")
    }

    /// The database's identity (`DatabaseIdentity`), nil when it has none (made by an earlier build, not
    /// written since by a role that may add it).
    static func databaseID(_ connection: PostgreSQLConnection) throws(PostgreSQLError) -> String? {
        let found = try connection.execute("SELECT value FROM factpipe_meta WHERE key = $1", [DatabaseIdentity.key])
        return found.rowCount == 1 ? found.text(0, 0) : nil
    }

    /// Gives a database made before identities were kept its own, where the role may add a row to
    /// `factpipe_meta`; nothing (not even a lock) when it has one.
    static func giveDatabaseID(_ connection: PostgreSQLConnection) throws(PostgreSQLError) {
        guard try databaseID(connection) == nil,
            try connection.execute("SELECT pg_catalog.has_table_privilege('factpipe_meta', 'INSERT')").bool(0, 0)
        else { return }
        try connection.execute(
            "INSERT INTO factpipe_meta(key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            [DatabaseIdentity.key, DatabaseIdentity.text(DatabaseIdentity.newValue())])
    }

    /// Refuses a database whose encoding is not UTF-8, for a writer (and `run --dry-run`, which says what a load
    /// would do). Also for a schema that is there: a factpipe database moved by `pg_dump`/`pg_restore` into
    /// one of another encoding failed a whole batch, naming no record, on the first character that encoding
    /// lacks (and every resume failed at the same place), or on a JSON `\u` escape in SQL_ASCII.
    static func checkEncoding(_ connection: PostgreSQLConnection) throws(PostgreSQLError) {
        let encoding = try connection.execute("SHOW server_encoding").text(0, 0) ?? ""
        guard encoding == "UTF8" else {
            throw PostgreSQLError(
                server: connection.server,
                message: "the database's encoding is \(encoding); factpipe needs a UTF8 database "
                    + "(CREATE DATABASE … ENCODING 'UTF8')")
        }
    }

    /// Runs `body` in a transaction of its own: committed when it returns, rolled back when it throws.
    private static func inTransaction(
        _ connection: PostgreSQLConnection, _ body: () throws(PostgreSQLError) -> Void
    ) throws(PostgreSQLError) {
        try connection.execute("BEGIN")
        do throws(PostgreSQLError) {
            try body()
            try connection.execute("COMMIT")
        } catch {
            connection.rollbackQuietly()
            throw error
        }
    }
}
