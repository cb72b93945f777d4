/// Reads the figures of `DatabaseStats` from a database opened for reading.
///
/// On a factpipe database every figure is one aggregate query: the subjects walk the
/// `(subject, predicate)` index, the predicates the statement's unique index, one range each
/// (`FactSchema.predicateNames`). On another program's database, predicates, subjects and arities
/// come from one pass over its rows through `ForeignFactRow`, so a column that is empty for some
/// rows is made up for by their statements.
struct DatabaseInspector {
    let database: ReadableFactDatabase
    private var connection: SQLiteConnection { database.connection }
    /// Called once the facts are counted, before the rest is read (a test's commit between two reads).
    var betweenReads: (() -> Void)?

    /// Collects the statistics, `top` predicates and sources and `loads` ledger rows at most.
    func collect(top: Int, loads: Int) throws(StoreError) -> DatabaseStats {
        // One read transaction, so one state of the database: read while a load committed, the counts, the
        // tallies and the ledger were of different moments (75,410 facts beside 86,210 by arity, 79,331 by
        // predicate and a ledger saying 89,155 inserted).
        try connection.execute("BEGIN")
        do {
            let stats = try collectFigures(top: top, loads: loads)
            try connection.execute("COMMIT")
            return stats
        } catch {
            connection.rollbackQuietly()
            throw error
        }
    }

    /// The journal mode: `wal` when the file says so (another program's database is opened `immutable`,
    /// which SQLite then reports as `delete`), else what SQLite reports.
    private func journalMode() throws(StoreError) -> String {
        if ReadOnlyDatabase.isWALDatabase(database.path) { return "wal" }
        return try connection.scalarText("PRAGMA journal_mode") ?? ""
    }

    private func collectFigures(top: Int, loads: Int) throws(StoreError) -> DatabaseStats {
        var stats = DatabaseStats(
            path: database.path, kind: database.kind, schemaVersion: database.userVersion,
            journalMode: try journalMode(), columns: database.columns)
        stats.pageSize = Int(try connection.scalarInt("PRAGMA page_size") ?? 0)
        stats.pageCount = Int(try connection.scalarInt("PRAGMA page_count") ?? 0)
        stats.freePages = Int(try connection.scalarInt("PRAGMA freelist_count") ?? 0)
        stats.facts = Int(try connection.scalarInt("SELECT count(*) FROM facts") ?? 0)
        betweenReads?()
        stats.indexes = try indexes()
        if database.hasColumn("source") {
            stats.sources = try tallies(
                "SELECT source, count(*) AS n FROM facts GROUP BY source ORDER BY n DESC, source LIMIT ?1", top)
        }
        switch database.kind {
        case .factpipe:
            if stats.indexes.contains(where: { $0.isUnique && $0.columns == ["statement"] }) {
                // No index has `predicate` first (schema version 3): each predicate is a range of the
                // statement's index, counted there, instead of a sort of every fact.
                stats.distinctPredicates = Int(
                    try connection.scalarInt("SELECT count(*) FROM (\(FactSchema.predicateNames))") ?? 0)
                stats.topPredicates = try tallies(
                    """
                    SELECT name, (SELECT count(*) FROM facts WHERE \(FactSchema.predicateRange("name"))) AS n
                    FROM (\(FactSchema.predicateNames)) ORDER BY n DESC, name LIMIT ?1
                    """, top)
            } else {
                stats.distinctPredicates = Int(
                    try connection.scalarInt("SELECT count(DISTINCT predicate) FROM facts") ?? 0)
                stats.topPredicates = try tallies(
                    "SELECT predicate, count(*) AS n FROM facts GROUP BY predicate ORDER BY n DESC, predicate LIMIT ?1",
                    top)
            }
            stats.distinctSubjects = Int(try connection.scalarInt("SELECT count(DISTINCT subject) FROM facts") ?? 0)
            let arities = try connection.prepare("SELECT arity, count(*) FROM facts GROUP BY arity ORDER BY arity")
            while try arities.step() {
                stats.arities.append(.init(arity: Int(arities.int64(0)), facts: Int(arities.int64(1))))
            }
            stats.recentLoads = try recentLoads(loads)
        case .foreign:
            try scanForeignRows(into: &stats, top: top)
        }
        return stats
    }

    private func scanForeignRows(into stats: inout DatabaseStats, top: Int) throws(StoreError) {
        let layout = ForeignFactRow.Layout(database)
        let statement = try connection.prepare("SELECT \(layout.selectList) FROM facts")
        var predicates: [String: Int] = [:]
        var subjects = Set<String>()
        var arities: [Int: Int] = [:]
        while try statement.step() {
            let row = ForeignFactRow(statement, layout: layout)
            if !row.fact.predicate.isEmpty { predicates[row.fact.predicate, default: 0] += 1 }
            if let subject = row.fact.subject { subjects.insert(subject) }
            if let arity = row.arity {
                arities[arity, default: 0] += 1
            } else {
                stats.unparsedStatements += 1
            }
        }
        stats.distinctPredicates = predicates.count
        stats.distinctSubjects = subjects.count
        stats.topPredicates = predicates.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .prefix(top).map { DatabaseStats.Tally(name: $0.key, facts: $0.value) }
        stats.arities = arities.sorted { $0.key < $1.key }.map { .init(arity: $0.key, facts: $0.value) }
    }

    private func tallies(_ sql: String, _ limit: Int) throws(StoreError) -> [DatabaseStats.Tally] {
        let statement = try connection.prepare(sql)
        try statement.bind(1, limit)
        var result: [DatabaseStats.Tally] = []
        while try statement.step() {
            result.append(.init(name: statement.text(0), facts: Int(statement.int64(1))))
        }
        return result
    }

    private func indexes() throws(StoreError) -> [DatabaseStats.Index] {
        let list = try connection.prepare("SELECT name, \"unique\" FROM pragma_index_list('facts') ORDER BY name")
        let info = try connection.prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")
        var result: [DatabaseStats.Index] = []
        while try list.step() {
            guard let name = list.text(0) else { continue }
            try info.bind(1, name)
            var columns: [String] = []
            while try info.step() { columns.append(info.text(0) ?? "") }
            info.reset()
            result.append(.init(name: name, columns: columns, isUnique: list.int64(1) != 0))
        }
        return result
    }

    private func recentLoads(_ limit: Int) throws(StoreError) -> [DatabaseStats.Load] {
        let statement = try connection.prepare(
            """
            SELECT id, source, status, started_at, finished_at, records, inserted, updated, duplicates, rejected,
            warnings FROM factpipe_loads ORDER BY id DESC LIMIT ?1
            """)
        try statement.bind(1, limit)
        var result: [DatabaseStats.Load] = []
        while try statement.step() {
            var load = DatabaseStats.Load(
                id: statement.int64(0), source: statement.text(1) ?? "", status: statement.text(2) ?? "",
                startedAt: statement.text(3) ?? "", finishedAt: statement.text(4))
            load.records = Int(statement.int64(5))
            load.inserted = Int(statement.int64(6))
            load.updated = Int(statement.int64(7))
            load.duplicates = Int(statement.int64(8))
            load.rejected = Int(statement.int64(9))
            load.warnings = Int(statement.int64(10))
            result.append(load)
        }
        return result
    }
}
