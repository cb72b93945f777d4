/// Runs `factpipe optimize` on a factpipe database in PostgreSQL, on factpipe's own tables only:
/// `REINDEX` (with `reindex`), `VACUUM` (`VACUUM FULL` with `vacuum`), the secondary indexes a killed
/// load left out, `ANALYZE`, and a check that every index of those tables is there and valid.
///
/// It takes the writer lock without waiting, so it refuses at once while a load or an undo runs (and
/// one that starts meanwhile waits for it), as the SQLite optimizer does.
///
/// `VACUUM` and `REINDEX` cannot run inside a transaction block: every step is one statement of its
/// own, sent on its own outside any transaction (the connection opens none). Plain `VACUUM` marks dead
/// rows for reuse and lets readers go on; `VACUUM FULL` rewrites each table without them and gives the
/// space back, but holds each table's exclusive lock while it does, so readers of that table wait.
/// `REINDEX` keeps writers out (the writer lock does anyway) and readers of the index being rebuilt.
enum PostgreSQLOptimizer {
    /// factpipe's tables, the only ones optimize touches.
    static let tables = ["facts", "factpipe_loads", "factpipe_assertions", "factpipe_meta"]

    /// Optimizes the database at `address` and reports each step and the tables' size before and after.
    /// - Throws: `PostgreSQLError` while a load holds the writer lock, when the server cannot be reached,
    ///   the database has no factpipe schema, or a step fails.
    static func run(
        address: PostgreSQLAddress, options: OptimizeOptions, isCancelled: () -> Bool = { false }
    ) throws(PostgreSQLError) -> OptimizeReport {
        let connection = try PostgreSQLConnection(address: address, applicationName: "factpipe optimize")
        try PostgreSQLSchema.checkReadable(connection)
        if let owners = try notOwned(connection) {
            // The server would skip such a table with a warning, and optimize would report work not done.
            throw PostgreSQLError(
                server: connection.server,
                message: "optimize needs to own factpipe's tables (VACUUM, ANALYZE and REINDEX are their "
                    + "owner's): \(owners); run it as that role")
        }
        if options.lockWaitSeconds > 0 {
            try PostgreSQLWriterLock.take(
                on: connection, timeoutSeconds: options.lockWaitSeconds, isCancelled: isCancelled)
        } else if try !PostgreSQLWriterLock.takeIfFree(on: connection) {
            let holder = try PostgreSQLWriterLock.holder(connection)
            throw PostgreSQLError(
                server: connection.server,
                message: "refusing to optimize: \(WriterLock.noun(holder: holder)) is writing to this database "
                    + "(\(holder)); run optimize after it")
        }
        // The lock is the session's: it goes when the connection closes, also on every error below.
        guard !connection.isInTransaction else {
            throw PostgreSQLError(
                server: connection.server, message: "optimize needs a connection outside a transaction")
        }
        // A killed direct load left facts without its unique index: complete it, as the next load would.
        try PostgreSQLDirectLoad.recover(on: connection, ledger: PostgreSQLLedger(connection: connection))
        let list = tables.joined(separator: ", ")
        let before = try size(connection)
        var report = OptimizeReport(path: connection.server, before: before, after: before)
        report.store = .postgresql
        if options.reindex {
            try report.timed("REINDEX") { () throws(PostgreSQLError) -> String? in
                for table in tables { try connection.execute("REINDEX TABLE \(table)") }
                return list
            }
        }
        try report.timed(options.vacuum ? "VACUUM FULL" : "VACUUM") { () throws(PostgreSQLError) -> String? in
            try connection.execute((options.vacuum ? "VACUUM (FULL) " : "VACUUM ") + list)
            return list
        }
        let existing = try PostgreSQLSchema.existingSecondaryIndexes(connection)
        for index in PostgreSQLSchema.secondaryIndexes where !existing.contains(index.name) {
            try report.timed("CREATE INDEX \(index.name)") { () throws(PostgreSQLError) -> String? in
                try connection.execute(index.sql)
                return "missing: a load was stopped before it built it again"
            }
        }
        try report.timed("ANALYZE") { () throws(PostgreSQLError) -> String? in
            try connection.execute("ANALYZE " + list)
            return list
        }
        var problems: [String] = []
        try report.timed("index check") { () throws(PostgreSQLError) -> String? in
            problems = try indexProblems(connection)
            return problems.isEmpty ? "every index present and valid" : problems.prefix(3).joined(separator: "; ")
        }
        report.integrity = problems.isEmpty ? ["ok"] : problems
        report.after = try size(connection)
        return report
    }

    /// factpipe's tables the connection's role does not own (nor is a member of their owner), with their
    /// owners, e.g. "facts belongs to kb_admin"; nil when it owns them all.
    private static func notOwned(_ connection: PostgreSQLConnection) throws(PostgreSQLError) -> String? {
        let result = try connection.execute("""
            SELECT relname, pg_get_userbyid(relowner) FROM pg_class
            WHERE oid = ANY($1::regclass[]) AND NOT pg_has_role(current_user, relowner, 'USAGE') ORDER BY relname
            """, ["{" + tables.joined(separator: ",") + "}"])
        guard result.rowCount > 0 else { return nil }
        return (0..<result.rowCount).map { row in
            "\(result.text(row, 0) ?? "?") belongs to \(result.text(row, 1) ?? "another role")"
        }.joined(separator: ", ")
    }

    /// What is wrong with the indexes of factpipe's tables: an index PostgreSQL marks invalid or not
    /// ready (left by a `CREATE INDEX CONCURRENTLY` or `REINDEX CONCURRENTLY` that failed), or the
    /// unique index on the statement missing.
    private static func indexProblems(_ connection: PostgreSQLConnection) throws(PostgreSQLError) -> [String] {
        let result = try connection.execute("""
            SELECT i.relname, t.relname, x.indisvalid AND x.indisready FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
            WHERE x.indrelid = ANY($1::regclass[]) ORDER BY t.relname, i.relname
            """, ["{" + tables.joined(separator: ",") + "}"])
        var problems: [String] = []
        var names = Set<String>()
        for row in 0..<result.rowCount {
            let name = result.text(row, 0) ?? ""
            names.insert(name)
            if !result.bool(row, 2) {
                problems.append("index \(name) on \(result.text(row, 1) ?? "?") is invalid; --reindex rebuilds it")
            }
        }
        if !names.contains("facts_statement") {
            problems.append("the unique index facts_statement is missing")
        }
        return problems
    }

    /// factpipe's tables with their indexes and TOAST (`pg_total_relation_size`), as `stats` counts them.
    private static func size(_ connection: PostgreSQLConnection) throws(PostgreSQLError) -> OptimizeReport.Size {
        let bytes = try connection.scalarInt(
            "SELECT sum(pg_total_relation_size(c)) FROM unnest($1::regclass[]) AS c",
            ["{" + tables.joined(separator: ",") + "}"]) ?? 0
        return OptimizeReport.Size(fileBytes: bytes, walBytes: 0, pageSize: 0, pageCount: 0, freePages: 0)
    }
}
