/// Runs `FactQuery` lookups on a factpipe database in PostgreSQL.
///
/// The SQL is assembled from fixed fragments, one per criterion given, and every value is a parameter:
/// equalities on the indexed columns (`(predicate, subject)`, `subject`), the statement through its
/// unique key (`factpipe_statement_key(statement)`, then the text itself). Facts come in id order, from
/// one `READ ONLY` transaction, through a server-side cursor fetched `fetchRows` at a time, so memory
/// stays flat even without a limit.
struct PostgreSQLFactLookup {
    /// Rows fetched from the server at a time.
    static let fetchRows = 1000

    let connection: PostgreSQLConnection

    /// The SQL and its parameters for `query`.
    static func sql(_ query: FactQuery, canonicalStatement: String?) -> (sql: String, parameters: [String?]) {
        var conditions: [String] = []
        var parameters: [String?] = []
        for (column, value) in [("predicate", query.predicate), ("subject", query.subject), ("object", query.object)] {
            guard let value else { continue }
            parameters.append(value)
            conditions.append("\(column) = $\(parameters.count)")
        }
        if let canonicalStatement {
            parameters.append(canonicalStatement)
            let mark = "$\(parameters.count)"
            conditions.append(
                "\(PostgreSQLSchema.key("statement")) = \(PostgreSQLSchema.key(mark)) AND statement = \(mark)")
        }
        parameters.append(query.limit.map { "\($0)" })
        var sql = """
            SELECT id, statement, predicate, subject, object, confidence, source, context::text, fact_metadata::text, \
            \(PostgreSQLLedger.isoText("created_at")) FROM facts
            """
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        return (sql + " ORDER BY id LIMIT $\(parameters.count)::bigint", parameters)
    }

    /// Hands every fact that meets `query` to `body`, at most `query.limit` and until `stopWhen()`; returns
    /// how many.
    func find(
        _ query: FactQuery, canonicalStatement: String?, stopWhen: () -> Bool = { false },
        _ body: (StoredFact) -> Void
    ) throws(PostgreSQLError) -> Int {
        try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        defer { connection.rollbackQuietly() }
        try PostgreSQLSchema.checkReadable(connection)
        let (sql, parameters) = Self.sql(query, canonicalStatement: canonicalStatement)
        try connection.execute("DECLARE factpipe_query NO SCROLL CURSOR FOR " + sql, parameters)
        var count = 0
        fetching: while !stopWhen() {
            let rows = try connection.execute("FETCH FORWARD \(Self.fetchRows) FROM factpipe_query")
            for row in 0..<rows.rowCount {
                if stopWhen() { break fetching }
                var fact = StoredFact(
                    id: rows.int64(row, 0), statement: rows.text(row, 1) ?? "", predicate: rows.text(row, 2) ?? "",
                    subject: rows.text(row, 3), object: rows.text(row, 4), confidence: rows.double(row, 5),
                    source: rows.text(row, 6), context: rows.text(row, 7), metadata: rows.text(row, 8),
                    createdAt: rows.text(row, 9))
                // `double precision` holds Infinity and NaN, which SQL may write and no import reads.
                if let confidence = fact.confidence, !confidence.isFinite {
                    fact.unloadable = "its confidence is \(confidence), not a finite number"
                }
                body(fact)
                count += 1
            }
            if rows.rowCount < Self.fetchRows { break }
        }
        try connection.execute("COMMIT")
        return count
    }
}
