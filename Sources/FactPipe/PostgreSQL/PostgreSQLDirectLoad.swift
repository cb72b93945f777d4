/// The first source of a load into an empty `facts` in PostgreSQL: its facts go by `COPY` straight
/// into `facts`, with the unique index dropped, instead of through the batch table and a merge (the
/// SQLite store's `DirectAppend`).
///
/// A statement certainly new (by `StatementFilter`) is copied into `facts` and counts as inserted; one
/// that may have come before (a repeat, or a rare false positive of the filter) is copied into
/// `factpipe_direct_staging`, a logged table, in the same batch transaction as the batch's facts and
/// its ledger checkpoint. So `facts` never holds a statement twice, and every committed batch is
/// durable with its checkpoint. The end of the source builds the unique index by one sort and merges
/// the staged rows under the conflict policy, in input order, in one transaction.
///
/// A load killed before that end leaves `facts` without its unique index and the staging table with
/// its committed repeats: `recover` (run by the next writer before it writes anything) does the same
/// end, so `--resume` continues from the checkpoint with the facts and counts of an uninterrupted load.
final class PostgreSQLDirectLoad {
    /// The table of the rows that may repeat a statement, with the batch table's columns.
    static let stagingTable = "factpipe_direct_staging"
    /// The unique index of `PostgreSQLSchema.createTables`, as it is built again after a direct load.
    static let uniqueIndex = "facts_statement"
    static let createUniqueIndex =
        "CREATE UNIQUE INDEX \(uniqueIndex) ON facts (\(PostgreSQLSchema.key("statement")))"

    /// The columns of `facts` a direct row fills, in `PostgreSQLFactsRows.append` order.
    static let factsColumns = """
        statement, predicate, subject, object, args, arity, confidence, source, context, fact_metadata,
        created_at, load_id
        """

    /// The load whose first source goes straight to `facts`.
    let loadID: Int64
    private let filter = StatementFilter()
    /// The open batch's rows for the staging table (few: repeats only), sent when the batch commits.
    private var staged = PostgreSQLCopyRow(reservingCapacity: 1 << 16)
    /// Input order of the staged rows over the whole source.
    private var sequence: Int64 = 0
    /// Facts the open batch copied into `facts`.
    private(set) var batchInserted = 0

    private init(loadID: Int64) {
        self.loadID = loadID
    }

    /// Starts a direct load of load `loadID`: drops the unique index and creates the staging table in
    /// one committed transaction. Returns nil (and changes nothing) when readers held `facts` for two
    /// seconds without a pause (`executeWithShortLockWaits`), or the role does not own it: the load
    /// then goes through the batch table.
    static func start(
        loadID: Int64, on connection: PostgreSQLConnection
    ) throws(PostgreSQLError) -> PostgreSQLDirectLoad? {
        do throws(PostgreSQLError) {
            let started = try connection.executeWithShortLockWaits([
                "DROP INDEX IF EXISTS \(uniqueIndex)",
                "CREATE TABLE \(stagingTable) AS SELECT * FROM \(PostgreSQLSchema.batchTable) WITH NO DATA",
            ])
            return started ? PostgreSQLDirectLoad(loadID: loadID) : nil
        } catch where error.sqlState == "42501" {
            // The role may write the table but does not own it (or may not create the staging table): load
            // through the batch table, with the unique index in place.
            return nil
        }
    }

    /// Appends `facts` to the open COPY's `rows` (certainly new statements) or to the staged rows.
    func add(_ facts: [Fact], to rows: inout PostgreSQLFactsRows, defaultCreatedAt: String) {
        filter.prefetch(facts.lazy.map(\.statementHash))
        for fact in facts {
            if filter.insert(hash: fact.statementHash) {
                sequence += 1
                staged.append(fact, sequence: sequence, occurrence: 1, loadID: loadID,
                              defaultCreatedAt: defaultCreatedAt)
            } else {
                rows.append(fact, loadID: loadID, defaultCreatedAt: defaultCreatedAt)
                batchInserted += 1
            }
        }
    }

    /// Sends the batch's staged rows, inside the batch's transaction, and starts the next batch.
    func endBatch(on connection: PostgreSQLConnection) throws(PostgreSQLError) {
        batchInserted = 0
        guard !staged.bytes.isEmpty else { return }
        try connection.beginCopy("COPY \(Self.stagingTable) (\(PostgreSQLCopyRow.batchColumns)) FROM STDIN")
        try connection.putCopyData(staged.bytes)
        try connection.endCopy()
        staged.removeAll()
    }

    /// Forgets the staged rows of a batch that was rolled back.
    func discardBatch() {
        batchInserted = 0
        staged.removeAll()
    }

    /// Ends every direct load a database holds, inside the caller's transaction: builds the unique index
    /// when it is missing, merges each load's staged rows under its policy and adds what they did to its
    /// ledger counts, and drops the staging table. Returns what was merged, by load id. `beforeMerging` runs
    /// once the unique index is there, before the first row goes into `facts`.
    @discardableResult
    static func complete(
        on connection: PostgreSQLConnection, ledger: PostgreSQLLedger,
        beforeMerging: () throws(PostgreSQLError) -> Void = {}
    ) throws(PostgreSQLError) -> [Int64: StagingArea.MergeResult] {
        let present = try connection.execute("""
            SELECT to_regclass('\(stagingTable)') IS NOT NULL, EXISTS (SELECT 1 FROM pg_indexes
            WHERE schemaname = \(PostgreSQLSchema.factsSchema) AND tablename = 'facts' AND indexname = '\(uniqueIndex)')
            """)
        let hasStaging = present.bool(0, 0), hasUniqueIndex = present.bool(0, 1)
        // The index of every statement and the merge of every repeat of a source: no load may start before
        // they are done, so a role's `statement_timeout` made for its own queries must not end them.
        try connection.execute(PostgreSQLSchema.noStatementTimeout)
        if !hasUniqueIndex {
            // One sort over every statement: the server's memory for it, not the default 64 MB.
            try connection.execute("SET LOCAL maintenance_work_mem = '256MB'")
            // The staging table is made in the transaction that drops the index and dropped in the one that
            // builds it: without it, no load of factpipe's set the index aside.
            try buildUniqueIndex(on: connection, deletingRepeats: hasStaging)
        }
        guard hasStaging else { return [:] }
        try beforeMerging()
        try connection.execute(PostgreSQLSchema.createBatchTable)
        try connection.execute("SET LOCAL enable_hashjoin = off")
        try connection.execute("SET LOCAL enable_mergejoin = off")
        var results: [Int64: StagingArea.MergeResult] = [:]
        let loads = try connection.execute("SELECT DISTINCT load_id FROM \(stagingTable) ORDER BY 1")
        for row in 0..<loads.rowCount {
            let id = loads.int64(row, 0)
            guard let entry = try ledger.entry(id: id) else { continue }
            try connection.execute("TRUNCATE \(PostgreSQLSchema.batchTable)")
            // Round n of the merge applies each statement's n-th staged occurrence, in input order.
            let rows = try connection.execute("""
                INSERT INTO \(PostgreSQLSchema.batchTable) (\(PostgreSQLCopyRow.batchColumns))
                SELECT seq, row_number() OVER (PARTITION BY statement ORDER BY seq), load_id, line, "offset",
                    statement, predicate, subject, object, args, arity, confidence, source, context, fact_metadata,
                    created_at, given
                FROM \(stagingTable) WHERE load_id = $1
                """, ["\(id)"]).affectedRows
            let rounds = Int(
                try connection.scalarInt("SELECT max(occurrence) FROM \(PostgreSQLSchema.batchTable)") ?? 1)
            // Every fact in `facts` is this load's (the table was empty when it began): no assertions to record.
            let merged = try PostgreSQLFactStore.merge(
                on: connection, policy: entry.policy, rounds: rounds, rows: Int64(rows), loadID: id,
                recordsAssertions: false)
            try ledger.add(merged, to: id)
            results[id] = merged
        }
        try connection.execute("TRUNCATE \(PostgreSQLSchema.batchTable)")
        try connection.execute("DROP TABLE \(stagingTable)")
        return results
    }

    /// Builds the unique index, inside the caller's transaction. The load itself never copies a statement
    /// twice, but another program may write `facts` while the index is out: a row repeating a statement made
    /// the build fail, and every later load, undo and optimize with it, until someone deleted it by hand.
    /// The first row of each statement (the lowest id) stays and the later ones are dropped, as the index
    /// would have refused them (as the SQLite store does); a dropped row of a load counts among its
    /// duplicates instead of its inserted facts. Without `deletingRepeats` (someone else dropped the index)
    /// such rows are theirs: the build is refused, naming one, and nothing is deleted.
    private static func buildUniqueIndex(
        on connection: PostgreSQLConnection, deletingRepeats: Bool
    ) throws(PostgreSQLError) {
        try connection.execute("SAVEPOINT factpipe_uniqueness")
        do throws(PostgreSQLError) {
            try connection.execute(createUniqueIndex)
            try connection.execute("RELEASE SAVEPOINT factpipe_uniqueness")
            return
        } catch where error.sqlState == "23505" {
            try connection.execute("ROLLBACK TO SAVEPOINT factpipe_uniqueness")
            try connection.execute("RELEASE SAVEPOINT factpipe_uniqueness")
        }
        guard deletingRepeats else {
            let found = try connection.execute("""
                SELECT statement, count(*), count(*) OVER () FROM facts GROUP BY statement HAVING count(*) > 1 LIMIT 1
                """)
            let example = found.rowCount > 0
                ? (statements: found.int64(0, 2), statement: found.text(0, 0) ?? "", times: found.int64(0, 1)) : nil
            throw PostgreSQLError(
                server: connection.server,
                message: StagingArea.repeatedWithoutIndex(example, index: uniqueIndex, build: createUniqueIndex))
        }
        try connection.execute("""
            WITH later AS (
                DELETE FROM facts WHERE id IN (
                    SELECT id FROM (SELECT id, row_number() OVER (
                        PARTITION BY \(PostgreSQLSchema.key("statement")) ORDER BY id) AS n FROM facts) AS copies
                    WHERE n > 1)
                RETURNING load_id),
            counted AS (SELECT load_id, count(*) AS n FROM later WHERE load_id IS NOT NULL GROUP BY load_id)
            UPDATE factpipe_loads AS l SET inserted = l.inserted - counted.n, duplicates = l.duplicates + counted.n
            FROM counted WHERE l.id = counted.load_id
            """)
        try connection.execute(createUniqueIndex)
    }

    /// Completes, in its own transaction, what a load killed (or stopped by a server that went away)
    /// in the middle of a direct load left: nothing when there is nothing to complete. Called under
    /// the writer lock, before anything else writes.
    /// Returns what was merged, by load id (counted in each load's ledger row).
    @discardableResult
    static func recover(
        on connection: PostgreSQLConnection, ledger: PostgreSQLLedger
    ) throws(PostgreSQLError) -> [Int64: StagingArea.MergeResult] {
        let pending = try connection.execute("""
            SELECT to_regclass('\(stagingTable)') IS NOT NULL OR NOT EXISTS (SELECT 1 FROM pg_indexes
            WHERE schemaname = \(PostgreSQLSchema.factsSchema) AND tablename = 'facts' AND indexname = '\(uniqueIndex)')
            """)
        guard pending.bool(0, 0) else { return [:] }
        try connection.execute("BEGIN")
        do throws(PostgreSQLError) {
            let merged = try complete(on: connection, ledger: ledger)
            try connection.execute("COMMIT")
            return merged
        } catch {
            connection.rollbackQuietly()
            throw error
        }
    }
}

/// Rows of `facts` in `COPY … FROM STDIN` text format (`PostgreSQLDirectLoad.factsColumns`), escaped as
/// `PostgreSQLCopyRow` escapes them.
struct PostgreSQLFactsRows {
    private(set) var bytes: [UInt8] = []

    init(reservingCapacity capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
    }

    /// Appends `fact` as a row of `facts`.
    mutating func append(_ fact: Fact, loadID: Int64, defaultCreatedAt: String) {
        fieldOrNull(fact, .statement, first: true)
        fieldOrNull(fact, .predicate)
        fieldOrNull(fact, .subject)
        fieldOrNull(fact, .object)
        fieldOrNull(fact, .args)
        bytes.append(0x09)
        bytes.append(contentsOf: String(fact.arity).utf8)
        bytes.append(0x09)
        bytes.append(contentsOf: "\(fact.confidence)".utf8)
        fieldOrNull(fact, .source)
        fieldOr(fact, .context, "{}")
        fieldOr(fact, .metadata, "{}")
        fieldOr(fact, .createdAt, defaultCreatedAt)
        bytes.append(0x09)
        bytes.append(contentsOf: String(loadID).utf8)
        bytes.append(0x0A)
    }

    private mutating func fieldOrNull(_ fact: Fact, _ column: Fact.Field, first: Bool = false) {
        if let range = fact.range(of: column) {
            escaped(fact.bytes[range], first: first)
        } else {
            if !first { bytes.append(0x09) }
            bytes.append(0x5C)
            bytes.append(UInt8(ascii: "N"))
        }
    }

    private mutating func fieldOr(_ fact: Fact, _ column: Fact.Field, _ absent: String) {
        if let range = fact.range(of: column) {
            escaped(fact.bytes[range])
        } else {
            var text = absent
            text.withUTF8 { escaped(ArraySlice($0)) }
        }
    }

    /// Appends one field, escaped by runs: the bytes between two that need escaping are copied at once
    /// (most fields have none), instead of one byte at a time.
    private mutating func escaped(_ text: ArraySlice<UInt8>, first: Bool = false) {
        if !first { bytes.append(0x09) }
        text.withUnsafeBufferPointer { source in
            var start = 0
            for index in source.indices {
                let escape: UInt8
                switch source[index] {
                case 0x5C: escape = 0x5C
                case 0x09: escape = UInt8(ascii: "t")
                case 0x0A: escape = UInt8(ascii: "n")
                case 0x0D: escape = UInt8(ascii: "r")
                default: continue
                }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: source[start..<index]))
                bytes.append(0x5C)
                bytes.append(escape)
                start = index + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: source[start...]))
        }
    }
}
