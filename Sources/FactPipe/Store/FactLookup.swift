/// Runs `FactQuery` lookups on a factpipe database or on another program's `facts` table.
///
/// The SQL is assembled from fixed fragments, one per criterion given, and every value is bound.
/// On a factpipe database the fragments are equalities on indexed columns. On another program's
/// database they only narrow the candidates (through the statement's index where they can), and
/// each candidate is then checked against the criteria with its statement parsed (`ForeignFactRow`).
final class FactLookup {
    private let database: ReadableFactDatabase

    init(database: ReadableFactDatabase) {
        self.database = database
    }

    /// Hands every fact that meets `query` to `body`, at most `query.limit` and until `stopWhen()`; returns
    /// how many.
    func find(
        _ query: FactQuery, canonicalStatement: String?, stopWhen: () -> Bool = { false },
        _ body: (StoredFact) -> Void
    ) throws(StoreError) -> Int {
        switch database.kind {
        case .factpipe: try findInFactpipe(query, canonicalStatement: canonicalStatement, stopWhen, body)
        case .foreign: try findInForeign(query, canonicalStatement: canonicalStatement, stopWhen, body)
        }
    }

    /// The SQL and its bindings for `query` on a factpipe database (also used by `EXPLAIN`).
    static func factpipeSQL(
        _ query: FactQuery, canonicalStatement: String?
    ) -> (sql: String, bindings: [(Int32, String)]) {
        var conditions: [String] = []
        var bindings: [(Int32, String)] = []
        if let predicate = query.predicate {
            // Without a subject (or a statement) no index has `predicate` first: the facts are the
            // predicate's range of the unique index. That is the `predicate` column of every row factpipe
            // wrote; a row another program wrote with a predicate its statement does not start with is
            // not found this way (documented beside `query`).
            conditions.append(
                query.subject == nil && canonicalStatement == nil
                    ? "predicate = ?1 AND " + FactSchema.predicateRange("?1") : "predicate = ?1")
            bindings.append((1, predicate))
        }
        if let subject = query.subject {
            conditions.append("subject = ?2")
            bindings.append((2, subject))
        }
        if let object = query.object {
            conditions.append("object = ?3")
            bindings.append((3, object))
        }
        if let canonicalStatement {
            conditions.append("statement = ?4")
            bindings.append((4, canonicalStatement))
        }
        var sql = """
            SELECT id, statement, predicate, subject, object, confidence, source, context, fact_metadata, created_at \
            FROM facts
            """
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        return (sql + " LIMIT ?5", bindings)
    }

    private func findInFactpipe(
        _ query: FactQuery, canonicalStatement: String?, _ stopWhen: () -> Bool, _ body: (StoredFact) -> Void
    ) throws(StoreError) -> Int {
        let (sql, bindings) = Self.factpipeSQL(query, canonicalStatement: canonicalStatement)
        let statement = try database.connection.prepare(sql)
        for (index, value) in bindings { try statement.bind(index, value) }
        try statement.bind(5, Int64(query.limit ?? -1))
        var count = 0
        while !stopWhen(), try statement.step() {
            // Before the accessors below convert any value: a column's type means nothing after a conversion.
            let unloadable = statement.unloadable(
                confidence: 5,
                texts: [(1, "statement"), (6, "source"), (7, "context"), (8, "fact_metadata"), (9, "created_at")])
            var fact = StoredFact(
                id: statement.int64(0), statement: statement.text(1) ?? "", predicate: statement.text(2) ?? "",
                subject: statement.text(3), object: statement.text(4), confidence: statement.double(5),
                source: statement.text(6), context: statement.text(7), metadata: statement.text(8),
                createdAt: statement.text(9))
            fact.unloadable = unloadable
            fact.confidenceText = statement.storedUnlessNumber(5)
            body(fact)
            count += 1
        }
        return count
    }

    private func findInForeign(
        _ query: FactQuery, canonicalStatement: String?, _ stopWhen: () -> Bool, _ body: (StoredFact) -> Void
    ) throws(StoreError) -> Int {
        let layout = ForeignFactRow.Layout(database)
        // The conditions only leave out rows that cannot match: a row whose column holds another plain name.
        // Where the column is empty (or missing) the statement decides, as the grammar reads it (`matches`), in
        // any spelling: a text search for `Red Fox` missed `IsA(Red  Fox, Animal).`, and the range from `IsA(`
        // missed ` IsA(Badger, Animal).`, facts `stats` counts under that predicate and subject. A column that
        // holds more than a plain name is judged in its canonical form (`ForeignFactRow`): `Big  Cat` or a
        // decomposed `Äpfel` was left out by the comparison of texts.
        var conditions: [String] = []
        var bindings: [(Int32, String)] = []
        for (index, column, value) in [
            (Int32(1), "predicate", query.predicate), (2, "subject", query.subject), (3, "object", query.object),
        ] {
            guard let value, database.hasColumn(column) else { continue }
            conditions.append(
                "(\(column) = ?\(index) OR coalesce(\(column), '') = '' OR \(column) GLOB '*[^A-Za-z0-9_]*')")
            bindings.append((index, value))
        }
        var sql = "SELECT " + layout.selectList + " FROM facts"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        let statement = try database.connection.prepare(sql)
        for (index, value) in bindings { try statement.bind(index, value) }
        var count = 0
        while query.limit.map({ count < $0 }) ?? true, !stopWhen(), try statement.step() {
            let row = ForeignFactRow(statement, layout: layout)
            guard row.matches(query, canonicalStatement: canonicalStatement) else { continue }
            body(row.fact)
            count += 1
        }
        return count
    }
}
