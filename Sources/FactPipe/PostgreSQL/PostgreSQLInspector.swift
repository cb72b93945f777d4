/// Reads the figures of `DatabaseStats` from a factpipe database in PostgreSQL, in one
/// `REPEATABLE READ READ ONLY` transaction so they describe one moment.
///
/// Counts are aggregates over `facts`; sizes are `pg_total_relation_size` of factpipe's tables (with
/// their indexes and TOAST); the indexes are read from `pg_index`, an expression index naming its
/// expression (`factpipe_statement_key(statement)`).
struct PostgreSQLInspector {
    let connection: PostgreSQLConnection

    /// Connects to `address` and collects the statistics, `top` predicates and sources and `loads`
    /// ledger rows at most.
    /// - Throws: `PostgreSQLError` for the server, or a database without factpipe's schema.
    static func collect(address: PostgreSQLAddress, top: Int, loads: Int) throws(PostgreSQLError) -> DatabaseStats {
        let connection = try PostgreSQLConnection(address: address, applicationName: "factpipe stats")
        try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        defer { connection.rollbackQuietly() }
        let version = try PostgreSQLSchema.checkReadable(connection)
        return try PostgreSQLInspector(connection: connection).collect(top: top, loads: loads, schemaVersion: version)
    }

    func collect(top: Int, loads: Int, schemaVersion: Int = PostgreSQLSchema.version) throws(PostgreSQLError)
        -> DatabaseStats {
        let columns = try connection.execute("""
            SELECT attname FROM pg_attribute WHERE attrelid = 'facts'::regclass AND attnum > 0 AND NOT attisdropped
            ORDER BY attnum
            """)
        var stats = DatabaseStats(
            path: connection.server, kind: .factpipe, schemaVersion: Int64(schemaVersion),
            journalMode: "", columns: (0..<columns.rowCount).compactMap { columns.text($0, 0) })
        stats.store = .postgresql
        let counts = try connection.execute(
            "SELECT count(*), count(DISTINCT predicate), count(DISTINCT subject) FROM facts")
        stats.facts = Int(counts.int64(0, 0))
        stats.distinctPredicates = Int(counts.int64(0, 1))
        stats.distinctSubjects = Int(counts.int64(0, 2))
        stats.fileBytes = try connection.scalarInt("""
            SELECT sum(pg_total_relation_size(c)) FROM unnest(ARRAY['facts', 'factpipe_loads', 'factpipe_assertions',
            'factpipe_meta']::regclass[]) AS c
            """) ?? 0
        stats.topPredicates = try tallies(
            "SELECT predicate, count(*) AS n FROM facts GROUP BY predicate ORDER BY n DESC, predicate COLLATE \"C\" LIMIT $1", top)
        stats.sources = try tallies(
            "SELECT source, count(*) AS n FROM facts GROUP BY source ORDER BY n DESC, source COLLATE \"C\" LIMIT $1", top)
        let arities = try connection.execute("SELECT arity, count(*) FROM facts GROUP BY arity ORDER BY arity")
        for row in 0..<arities.rowCount {
            stats.arities.append(.init(arity: Int(arities.int64(row, 0)), facts: Int(arities.int64(row, 1))))
        }
        stats.indexes = try indexes()
        stats.recentLoads = try recentLoads(loads)
        return stats
    }

    private func tallies(_ sql: String, _ limit: Int) throws(PostgreSQLError) -> [DatabaseStats.Tally] {
        let result = try connection.execute(sql, ["\(limit)"])
        return (0..<result.rowCount).map { .init(name: result.text($0, 0), facts: Int(result.int64($0, 1))) }
    }

    private func indexes() throws(PostgreSQLError) -> [DatabaseStats.Index] {
        let result = try connection.execute("""
            SELECT c.relname, x.indisunique, (SELECT string_agg(pg_get_indexdef(x.indexrelid, k, true), E'\\x1f'
            ORDER BY k) FROM generate_series(1, x.indnkeyatts) AS k) FROM pg_index x
            JOIN pg_class c ON c.oid = x.indexrelid WHERE x.indrelid = 'facts'::regclass ORDER BY c.relname
            """)
        return (0..<result.rowCount).map { row in
            .init(
                name: result.text(row, 0) ?? "",
                columns: (result.text(row, 2) ?? "").split(separator: "\u{1F}").map(String.init),
                isUnique: result.bool(row, 1))
        }
    }

    private func recentLoads(_ limit: Int) throws(PostgreSQLError) -> [DatabaseStats.Load] {
        let result = try connection.execute("""
            SELECT id, source, status, \(PostgreSQLLedger.isoText("started_at")), \
            \(PostgreSQLLedger.isoText("finished_at")), records, inserted, updated, duplicates, rejected, warnings
            FROM factpipe_loads ORDER BY id DESC LIMIT $1
            """, ["\(limit)"])
        return (0..<result.rowCount).map { row in
            var load = DatabaseStats.Load(
                id: result.int64(row, 0), source: result.text(row, 1) ?? "", status: result.text(row, 2) ?? "",
                startedAt: result.text(row, 3) ?? "", finishedAt: result.text(row, 4))
            load.records = Int(result.int64(row, 5))
            load.inserted = Int(result.int64(row, 6))
            load.updated = Int(result.int64(row, 7))
            load.duplicates = Int(result.int64(row, 8))
            load.rejected = Int(result.int64(row, 9))
            load.warnings = Int(result.int64(row, 10))
            return load
        }
    }
}
