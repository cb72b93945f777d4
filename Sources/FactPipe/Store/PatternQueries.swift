import CSQLite

/// The `scale-test` lookups on a factpipe database, each prepared once and run many times.
///
/// Every pattern is answered from an index: `(subject, predicate)` for `predicateSubject` and
/// `subject`, the statement's unique index for `statement`, and a range of that index for
/// `countByPredicate` (the facts of predicate `P` are the statements from `P(` up to `P)`; the count
/// never touches the table). `queryPlan(for:)` returns what `EXPLAIN QUERY PLAN` says of each.
final class PatternQueries {
    private let connection: SQLiteConnection
    /// The prepared statement of each pattern, in `QueryPattern.allCases` order.
    private var prepared: [SQLiteStatement] = []

    /// The most of the file lookups read through a memory map: a page SQLite does not hold is then
    /// read from the kernel's page cache without a system call or a copy (those pages are shared
    /// file pages, not heap).
    static let mmapBytes = 1 << 30

    /// Opens `path` for reading as a factpipe database and prepares every pattern (so no timed
    /// query pays for compiling its SQL).
    /// - Throws: `StoreError` when it cannot be opened or is not a factpipe database.
    init(path: String, settings: DatabaseSettings = .init()) throws(StoreError) {
        connection = try FactDatabase.openForReading(path: path, settings: settings)
        try connection.execute("PRAGMA mmap_size=\(Self.mmapBytes)")
        for pattern in QueryPattern.allCases {
            prepared.append(try connection.prepare(Self.sql(for: pattern)))
        }
    }

    /// The SQL of each pattern; `?1` is the predicate or the statement, `?2` the subject.
    static func sql(for pattern: QueryPattern) -> String {
        switch pattern {
        case .predicateSubject: "SELECT id, statement, confidence FROM facts WHERE predicate = ?1 AND subject = ?2"
        case .subject: "SELECT id, statement, confidence FROM facts WHERE subject = ?2"
        case .statement: "SELECT id, statement, confidence FROM facts WHERE statement = ?1"
        case .countByPredicate: "SELECT count(*) FROM facts WHERE " + FactSchema.predicateRange("?1")
        }
    }

    /// Runs `pattern` with `key`, reads every row, and returns how many facts it found (for
    /// `countByPredicate`, the count).
    func run(_ pattern: QueryPattern, _ key: QueryPattern.Key) throws(StoreError) -> Int {
        let statement = prepared[Self.position(of: pattern)]
        var first = pattern == .statement ? key.statement : key.predicate
        var second = key.subject
        // The keys are bound without a copy (they outlive the run) and the statement is reset before
        // they go; every bound parameter is bound again on the next run.
        let (rc, found) = first.withUTF8 { first in
            second.withUTF8 { second in
                Self.run(pattern, statement.handle, first, second)
            }
        }
        guard rc == SQLITE_DONE || rc == SQLITE_ROW else {
            throw connection.error(rc, "statement failed", sql: statement.sql)
        }
        return found
    }

    /// Binds, steps and reads one run of `pattern`; returns SQLite's last result code and the count.
    private static func run(
        _ pattern: QueryPattern, _ statement: OpaquePointer, _ first: UnsafeBufferPointer<UInt8>,
        _ second: UnsafeBufferPointer<UInt8>
    ) -> (Int32, Int) {
        defer { sqlite3_reset(statement) }
        var rc = SQLITE_OK
        switch pattern {
        case .predicateSubject:
            rc = bind(statement, 1, first)
            if rc == SQLITE_OK { rc = bind(statement, 2, second) }
        case .subject: rc = bind(statement, 2, second)
        case .statement, .countByPredicate: rc = bind(statement, 1, first)
        }
        guard rc == SQLITE_OK else { return (rc, 0) }
        if pattern == .countByPredicate {
            rc = sqlite3_step(statement)
            return (rc, rc == SQLITE_ROW ? Int(sqlite3_column_int64(statement, 0)) : 0)
        }
        var rows = 0
        rc = sqlite3_step(statement)
        while rc == SQLITE_ROW {
            // Read the row as a caller would (the statement's text as a String); the row counts
            // only once its text is out.
            let id = sqlite3_column_int64(statement, 0)
            if let text = sqlite3_column_text(statement, 1) {
                let count = Int(sqlite3_column_bytes(statement, 1))
                let fact = String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
                let confidence = sqlite3_column_double(statement, 2)
                if id != 0 || !fact.isEmpty || confidence.isFinite { rows += 1 }
            }
            rc = sqlite3_step(statement)
        }
        return (rc, rows)
    }

    private static func bind(_ statement: OpaquePointer, _ index: Int32, _ text: UnsafeBufferPointer<UInt8>) -> Int32 {
        let pointer = UnsafeRawPointer(text.baseAddress ?? UnsafePointer(bitPattern: 1))?
            .assumingMemoryBound(to: CChar.self)
        return sqlite3_bind_text(statement, index, pointer, Int32(text.count), factpipe_sqlite_static())
    }

    private static func position(of pattern: QueryPattern) -> Int {
        switch pattern {
        case .predicateSubject: 0
        case .subject: 1
        case .statement: 2
        case .countByPredicate: 3
        }
    }

    /// The detail lines of `EXPLAIN QUERY PLAN` for `pattern`, e.g.
    /// `SEARCH facts USING INDEX facts_subject_predicate (subject=?)`.
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
