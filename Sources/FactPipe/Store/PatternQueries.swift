/// The `scale-test` lookups on a factpipe database, each prepared once and run many times.
///
/// Every pattern is an equality on an index: `(predicate, subject)` for `predicateSubject` and
/// `countByPredicate` (which never touches the table: the index covers it), `subject`, and the
/// statement's unique index. `queryPlan(for:)` returns what `EXPLAIN QUERY PLAN` says of each.
final class PatternQueries {
    private let connection: SQLiteConnection
    private var prepared: [QueryPattern: SQLiteStatement] = [:]

    /// Opens `path` for reading as a factpipe database and prepares every pattern (so no timed
    /// query pays for compiling its SQL).
    /// - Throws: `StoreError` when it cannot be opened or is not a factpipe database.
    init(path: String, settings: DatabaseSettings = .init()) throws(StoreError) {
        connection = try FactDatabase.openForReading(path: path, settings: settings)
        for pattern in QueryPattern.allCases {
            prepared[pattern] = try connection.prepare(Self.sql(for: pattern))
        }
    }

    /// The SQL of each pattern; `?1` is the predicate or the statement, `?2` the subject.
    static func sql(for pattern: QueryPattern) -> String {
        switch pattern {
        case .predicateSubject: "SELECT id, statement, confidence FROM facts WHERE predicate = ?1 AND subject = ?2"
        case .subject: "SELECT id, statement, confidence FROM facts WHERE subject = ?2"
        case .statement: "SELECT id, statement, confidence FROM facts WHERE statement = ?1"
        case .countByPredicate: "SELECT count(*) FROM facts WHERE predicate = ?1"
        }
    }

    /// Runs `pattern` with `key`, reads every row, and returns how many facts it found (for
    /// `countByPredicate`, the count).
    func run(_ pattern: QueryPattern, _ key: QueryPattern.Key) throws(StoreError) -> Int {
        let statement: SQLiteStatement
        if let cached = prepared[pattern] {
            statement = cached
        } else {
            statement = try connection.prepare(Self.sql(for: pattern))
            prepared[pattern] = statement
        }
        defer { statement.reset() }
        switch pattern {
        case .predicateSubject:
            try statement.bind(1, key.predicate)
            try statement.bind(2, key.subject)
        case .subject:
            try statement.bind(2, key.subject)
        case .statement:
            try statement.bind(1, key.statement)
        case .countByPredicate:
            try statement.bind(1, key.predicate)
            return try statement.step() ? Int(statement.int64(0)) : 0
        }
        var rows = 0
        while try statement.step() {
            // Read the statement as a caller would; the row counts only once its text is out.
            if statement.text(1) != nil { rows += 1 }
        }
        return rows
    }

    /// The detail lines of `EXPLAIN QUERY PLAN` for `pattern`, e.g.
    /// `SEARCH facts USING INDEX facts_subject (subject=?)`.
    func queryPlan(for pattern: QueryPattern) throws(StoreError) -> [String] {
        try Self.queryPlan(Self.sql(for: pattern), connection)
    }

    /// The detail lines of `EXPLAIN QUERY PLAN` for `sql`.
    static func queryPlan(_ sql: String, _ connection: SQLiteConnection) throws(StoreError) -> [String] {
        let statement = try connection.prepare("EXPLAIN QUERY PLAN " + sql)
        var details: [String] = []
        while try statement.step() {
            if let detail = statement.text(3) { details.append(detail) }
        }
        return details
    }

    /// The highest fact id, 0 for an empty table.
    func maximumID() throws(StoreError) -> Int64 {
        try connection.scalarInt("SELECT max(id) FROM facts") ?? 0
    }

    /// The key parts of the fact with `id`, or nil when there is none.
    func key(id: Int64) throws(StoreError) -> QueryPattern.Key? {
        let statement = try connection.prepare("SELECT predicate, subject, statement FROM facts WHERE id = ?1")
        try statement.bind(1, id)
        guard try statement.step() else { return nil }
        return QueryPattern.Key(
            predicate: statement.text(0) ?? "", subject: statement.text(1) ?? "", statement: statement.text(2) ?? "")
    }
}
