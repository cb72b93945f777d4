/// The writer stage into PostgreSQL: the SQLite store's guarantees, on a server.
///
/// Each batch is one transaction: its facts go by `COPY` into the session's temporary batch table, then
/// into `facts` by `INSERT … SELECT … ON CONFLICT (factpipe_statement_key(statement))` under the
/// conflict policy, its rejects are written out and the ledger's counts and checkpoint are updated, and
/// it commits. Nothing waits outside `facts` between batches, so a `kill -9` (or a server that goes
/// away) at any moment leaves every committed batch stored and its checkpoint recorded: `--resume`
/// continues exactly after it. An atomic load is one transaction from start to end.
///
/// A statement that occurs more than once in a batch is applied once per occurrence, in input order
/// (round `n` applies every statement's `n`-th occurrence), so `ignore` keeps the first, `replace` ends
/// with the last and `update` merges them in order, as the SQLite store does.
///
/// The first source of a load into an empty table skips the batch table: its facts are copied straight
/// into `facts` with the unique index built after (`PostgreSQLDirectLoad`).
final class PostgreSQLFactStore: FactSink {
    private let options: ImportOptions
    private let address: PostgreSQLAddress
    private let startedAt: String
    private let isCancelled: () -> Bool
    private let progress: ImportProgress?
    private let connection: PostgreSQLConnection
    private let ledger: PostgreSQLLedger
    /// The largest fact id a batch committed (`PostgreSQLFactIDHighWater`).
    private let highWater: PostgreSQLFactIDHighWater
    private let rejects: BufferedFileOutput?
    /// Where an atomic load's rejects wait until it commits (`RejectsSpool`).
    private let spool: RejectsSpool?
    private var defaultCreatedAt: String

    private var descriptors: [SourceDescriptor] = []
    /// The source being loaded: its ledger id and its committed counts.
    private var current: (id: Int64, counts: LoadLedger.Counts)?
    /// Counts of the current source including the open batch.
    private var pending = LoadLedger.Counts()
    /// True while a batch's COPY is open.
    private var isCopying = false
    /// Rows of the open batch, numbered in input order; how often each statement (by its 64-bit hash)
    /// came so far in the batch, and the most.
    private var batchRows: Int64 = 0
    private var occurrences: [UInt64: Int] = [:]
    private var maxOccurrence = 0
    private var row = PostgreSQLCopyRow(reservingCapacity: 1 << 20)
    /// The same for a direct load's rows of `facts`.
    private var factsRows = PostgreSQLFactsRows(reservingCapacity: 1 << 20)
    /// Size of the rejects file after the last commit; a rollback cuts it back to this.
    private var rejectsCommittedSize: Int64 = 0
    private var atomicRejects = AtomicRejects()
    /// Whether the next source may be copied straight into `facts` (decided once, in `prepare`).
    private var mayLoadDirectly = false
    /// The direct load of the current source, while there is one.
    private var direct: PostgreSQLDirectLoad?
    private var finished: [FinishedSource] = []
    /// Ledger counts each source had before this run, by load id.
    private var bases: [Int64: LoadLedger.Counts] = [:]
    private(set) var summary = ImportSummary()

    /// Connects, takes the database's writer lock, creates the schema when missing and prepares the writer.
    /// - Throws: `PostgreSQLError` for the server, the lock or a foreign schema; `FileOutputError` for the
    ///   rejects file.
    init(
        address: PostgreSQLAddress, options: ImportOptions, startedAt: String, progress: ImportProgress?,
        isCancelled: @escaping () -> Bool
    ) throws {
        self.options = options
        self.address = address
        self.progress = progress
        self.startedAt = startedAt
        self.isCancelled = isCancelled
        defaultCreatedAt = startedAt
        connection = try PostgreSQLConnection(address: address, applicationName: "factpipe import")
        try PostgreSQLWriterLock.take(
            on: connection, timeoutSeconds: options.lockTimeoutSeconds, isCancelled: isCancelled)
        try PostgreSQLWriterLock.boundLockWaits(on: connection, seconds: options.lockTimeoutSeconds)
        // Once this database's lock is held, so a load of the same inputs that holds the file waits (and then
        // skips them), and before the schema is made in an empty database: a load refused for its rejects
        // file changes nothing.
        if let rejects = options.rejectsPath { try BufferedFileOutput.checkNotHeld(rejects, what: "rejects file") }
        try PostgreSQLSchema.prepare(connection)
        try PostgreSQLSchema.checkUniqueIndex(connection)
        // The batch table and the sort of a merge in memory (the server's, for this session only): the
        // defaults (8 MB, 4 MB) spill a batch of 50,000 facts to disk.
        try connection.execute("SET temp_buffers = '128MB'")
        try connection.execute("SET work_mem = '64MB'")
        try connection.execute(PostgreSQLSchema.createBatchTable)
        ledger = PostgreSQLLedger(connection: connection)
        // Loads left running hold no lock any more: their process died after their last commit.
        try ledger.markAbandoned()
        // A load killed while it copied straight into `facts` left its unique index out and its repeats staged.
        // What it merges is counted in the stopped load's ledger row, not in this run's counts: a note says it.
        for (id, merged) in try PostgreSQLDirectLoad.recover(on: connection, ledger: ledger).sorted(by: { $0.key < $1.key }) {
            summary.notes.append(merged.noteOfStoppedLoad(id))
        }
        highWater = try PostgreSQLFactIDHighWater(connection: connection)
        try highWater.forgetDeletedFacts()
        // Opened to append: a load that reads no input (all skipped) leaves the file as it was.
        rejects = try options.rejectsPath.map {
            try BufferedFileOutput.rejects(
                path: $0, isCancelled: isCancelled, attributes: .like(database: options.databasePath))
        }
        rejectsCommittedSize = rejects?.bytesWritten ?? 0
        spool = options.isAtomic ? rejects.flatMap { RejectsSpool(beside: $0) } : nil
    }

    /// Decides for each input whether to load it, skip it (its content is in the ledger as done) or
    /// resume its interrupted load, from the ledger and the input's SHA-256 (`PostgreSQLLoadPlanner`).
    func plan(_ inputs: [String]) throws -> [SourcePlan] {
        var planner = PostgreSQLLoadPlanner(ledger: ledger, options: options, server: connection.server)
        var plans: [SourcePlan] = []
        do {
            for path in inputs {
                let plan = try planner.plan(path)
                if case .skip(let reason) = plan.action { summary.skipped.append((path, reason)) }
                plans.append(plan)
            }
            // A load that neither resumes nor appends starts its rejects file afresh, once it reads an input.
            if let rejects, plans.contains(where: \.isRead), !options.resume, !options.appendsRejects {
                try rejects.truncate(to: 0)
                rejectsCommittedSize = rejects.bytesWritten
            }
        } catch {
            // The load never runs, and its end builds the secondary indexes a killed direct load left out (the
            // start completed that load): a refused resume left `facts` without them until a later load. Not
            // after a stop signal: the next writer builds them.
            if !isCancelled() { try? buildMissingIndexes() }
            throw error
        }
        return plans
    }

    /// Runs the writer until the messages end or the load stops; returns the committed summary.
    func run(_ messages: BoundedQueue<WriterMessage>, estimatedRecords: Int64?, sourcesToRead: Int) -> ImportSummary {
        var lateInterrupt = false
        do {
            try prepare(estimatedRecords: estimatedRecords)
            if options.isAtomic { try connection.execute("BEGIN") }
            while let message = messages.pop() {
                if isCancelled() { throw FactSinkStop.interrupted }
                switch message {
                case .begin(let descriptor):
                    try begin(descriptor)
                case .segment(let segment):
                    try write(segment)
                case .end(let sha256):
                    try finishSource(sha256: sha256)
                case .stop(let status, let message):
                    throw FactSinkStop.requested(status, message)
                }
            }
            let atTheEnd = try FinishedSource.interruptAtTheEnd(
                finished, sourcesToRead: sourcesToRead, isOpen: current != nil, isAtomic: options.isAtomic,
                isCancelled: isCancelled())
            lateInterrupt = atTheEnd == .late
            let interruptAtAStreamsEnd = atTheEnd == .asAPipeEnded
            if options.isAtomic {
                try spool?.publish()
                try connection.execute("COMMIT")
            }
            summary.status = .done
            if lateInterrupt { summary.notes.append(FinishedSource.lateInterruptNote) }
            if interruptAtAStreamsEnd { summary.interruptedAsItsInputEnded() }
            if let note = try? triggerNote() { summary.notes.append(note) }
        } catch {
            fail(FactSinkStop.reported(error, isCancelled: isCancelled))
        }
        // After the load's commit (or the committed batches of one that stopped), a failure to build the
        // indexes takes nothing back: the next load builds them. A load that is done says so; one that
        // stopped has said why already (the server gone, say).
        do {
            try buildMissingIndexes()
        } catch where summary.status == .done {
            summary.notes.append("the secondary indexes could not be built (\(error)); the next load into this "
                + "database builds them")
        } catch {}
        // An interrupt while they were built came after the load's commit: the load finished, and says so
        // (it used to finish without a word, exit 0).
        if summary.status == .done, !lateInterrupt, isCancelled() {
            summary.notes.append(FinishedSource.lateInterruptNote)
        }
        spool?.discard()
        let summary = finishSummary()
        try? rejects?.close()
        return summary
    }

    /// The note for the triggers of the user's on `facts` (`FinishedSource.triggerNote`).
    private func triggerNote() throws -> String? {
        let result = try connection.execute("""
            SELECT tgname FROM pg_catalog.pg_trigger
            WHERE tgrelid = pg_catalog.to_regclass('facts') AND NOT tgisinternal
            ORDER BY tgname COLLATE "C"
            """)
        return FinishedSource.triggerNote((0..<result.rowCount).compactMap { result.text($0, 0) })
    }

    // MARK: Indexes

    /// Drops the secondary indexes before a load into an empty table, or one larger than the table
    /// (building them once after is far cheaper than updating them row by row); otherwise builds any
    /// that a killed load left out. An atomic load keeps them: dropping one would hold a lock that blocks
    /// readers until its end. A drop that readers keep waiting for two seconds is given up.
    private func prepare(estimatedRecords: Int64?) throws {
        let isEmpty = try !connection.execute("SELECT EXISTS (SELECT 1 FROM facts)").bool(0, 0)
        let estimatedRows = try connection.scalarInt(
            "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = to_regclass('facts')") ?? 0
        let rebuilds = !options.isAtomic && (isEmpty || (estimatedRecords ?? 0) > estimatedRows)
        mayLoadDirectly = isEmpty && !options.isAtomic && options.conflictPolicy != .fail
        guard rebuilds else {
            // A missing secondary index slows lookups; it takes nothing from a load. One that cannot be built
            // (a tablespace the role may not use, a full disk) failed every later load, which the end of a load
            // that dropped it had promised would build it.
            do {
                try buildMissingIndexes()
            } catch let error as PostgreSQLError where !Self.isConnectionLost(error) && !isCancelled() {
                summary.notes.append("the secondary indexes are missing and could not be built (\(error)); lookups "
                    + "by subject scan the table until a load or `factpipe optimize` builds them")
            }
            return
        }
        let present = try PostgreSQLSchema.existingSecondaryIndexes(connection)
        let dropping = try PostgreSQLSchema.secondaryIndexes.filter {
            try present.contains($0.name) && PostgreSQLSchema.isFactpipes(index: $0.name, sql: $0.sql, connection)
        }
        guard !dropping.isEmpty else { return }
        do {
            // Given up (the indexes stay) when readers held the table for two seconds without a pause.
            _ = try connection.executeWithShortLockWaits(dropping.map { "DROP INDEX IF EXISTS \($0.name)" })
        } catch {
            // The role may write the table but does not own it: load with the indexes in place.
            guard error.sqlState == "42501" else { throw error }
        }
    }

    /// Builds the secondary indexes that are missing, side by side (each `CREATE INDEX` lets readers go on).
    /// When a build's own connection is refused (a role limited to one connection, a server out of
    /// connection slots) or stopped, what is still missing is built on the load's connection, one index
    /// after another: such a role's loads never had their indexes.
    private func buildMissingIndexes() throws {
        do {
            try startMissingIndexes()?.wait()
        } catch let error as PostgreSQLError where !options.isAtomic && Self.isConnectionRefusedOrEnded(error) {
            let present = try PostgreSQLSchema.existingSecondaryIndexes(connection)
            for index in PostgreSQLSchema.secondaryIndexes where !present.contains(index.name) {
                try inTransaction {
                    // As each build on its own connection does (`PostgreSQLIndexBuilds`).
                    try connection.execute(PostgreSQLSchema.noStatementTimeout)
                    try connection.execute(
                        "SELECT pg_advisory_xact_lock_shared($1::bigint)", ["\(PostgreSQLSchema.indexBuildsLockKey)"])
                    try connection.execute("SET LOCAL maintenance_work_mem = '256MB'")
                    try connection.execute(index.sql)
                }
            }
        }
    }

    /// True when a build's connection could not be made or was ended (not a build that failed as such: a
    /// timeout or a full disk would fail the same way again on the load's own connection).
    private static func isConnectionRefusedOrEnded(_ error: PostgreSQLError) -> Bool {
        guard let state = error.sqlState else { return true }
        return state.hasPrefix("08") || state.hasPrefix("28") || state.hasPrefix("57P") || state == "53300"
            || state == "55P03"
    }

    /// True when the server or the connection to it is gone or refused it (not a build that failed as such,
    /// nor a lock it waited for too long): the load cannot go on.
    private static func isConnectionLost(_ error: PostgreSQLError) -> Bool {
        guard let state = error.sqlState else { return true }
        return state.hasPrefix("08") || state.hasPrefix("28") || state.hasPrefix("57P") || state == "53300"
    }

    /// Starts building the missing secondary indexes on connections of their own; nil when none is missing.
    private func startMissingIndexes() throws -> PostgreSQLIndexBuilds? {
        let present = try PostgreSQLSchema.existingSecondaryIndexes(connection)
        let missing = PostgreSQLSchema.secondaryIndexes.filter { !present.contains($0.name) }
        return missing.isEmpty ? nil : PostgreSQLIndexBuilds(missing.map(\.sql), address: address)
    }

    // MARK: Sources and batches

    /// Runs `body` in its own transaction, or inside the load's when it is atomic.
    private func inTransaction(_ body: () throws -> Void) throws {
        if options.isAtomic { return try body() }
        try connection.execute("BEGIN")
        do {
            try body()
            try connection.execute("COMMIT")
        } catch {
            connection.rollbackQuietly()
            throw error
        }
    }

    private func begin(_ descriptor: SourceDescriptor) throws {
        var id: Int64 = 0
        var counts = LoadLedger.Counts()
        if let resumed = descriptor.resumeLoadID, let entry = try ledger.entry(id: resumed) {
            // Continue the interrupted row: its counts, and its start time as the facts' default creation time.
            id = resumed
            counts = entry.counts
            // Lines written after the checkpoint belonged to a batch that never committed, unless other
            // loads have written the file since.
            let resumedRejects = try RejectsResume.resume(
                rejects, recordedPath: entry.rejectsPath, counts: entry.counts, source: descriptor.path,
                recordedSource: try ledger.source(id: resumed), notes: &summary.notes)
            counts.rejectsOffset = resumedRejects.offset
            try rejects?.endTornLine()
            rejectsCommittedSize = rejects?.bytesWritten ?? 0
            try inTransaction {
                if resumedRejects.namesAnotherFile {
                    try ledger.setRejectsPath(id: id, options.rejectsPath, size: counts.rejectsOffset)
                }
                // The planner let a load that had merged nothing go on under another policy: say which.
                if entry.policy != options.conflictPolicy { try ledger.setPolicy(id: id, options.conflictPolicy) }
                // Likewise another format, for a load that had read nothing yet.
                if try ledger.format(id: id) != descriptor.format.rawValue {
                    try ledger.setFormat(id: id, descriptor.format.rawValue)
                }
                try ledger.record(id: id, counts: counts, status: .running)
            }
            defaultCreatedAt = try ledger.startedAt(id: id) ?? startedAt
        } else {
            try inTransaction {
                id = try ledger.start(
                    source: descriptor.path, size: descriptor.size, format: descriptor.format.rawValue,
                    compression: descriptor.compression, policy: options.conflictPolicy, startedAt: startedAt,
                    sha256: descriptor.sha256, rules: ValidationRules.text(options))
                // A line a killed load left torn (an atomic one's, appended just before its commit).
                try rejects?.endTornLine()
                counts.rejectsOffset = rejects?.bytesWritten ?? 0
                try ledger.setRejectsPath(id: id, options.rejectsPath, size: counts.rejectsOffset)
            }
            defaultCreatedAt = startedAt
        }
        atomicRejects.began(descriptor.path, fromLine: counts.checkpointLine, rejects: rejects)
        descriptors.append(descriptor)
        current = (id, counts)
        pending = counts
        bases[id] = counts
        if mayLoadDirectly && descriptor.resumeLoadID == nil {
            direct = try PostgreSQLDirectLoad.start(loadID: id, on: connection)
        }
        mayLoadDirectly = false
    }

    /// Sends one segment's facts into the open batch's COPY (opening both when none is open), and
    /// commits when the segment ends a batch.
    private func write(_ segment: FactSegment) throws {
        guard let (id, committed) = current else { return }
        if !isCopying {
            if !options.isAtomic { try connection.execute("BEGIN") }
            try connection.beginCopy(direct == nil
                ? "COPY \(PostgreSQLSchema.batchTable) (\(PostgreSQLCopyRow.batchColumns)) FROM STDIN"
                : "COPY facts (\(PostgreSQLDirectLoad.factsColumns)) FROM STDIN")
            isCopying = true
            pending = committed
            batchRows = 0
            occurrences.removeAll(keepingCapacity: true)
            maxOccurrence = 0
        }
        if let direct {
            factsRows.removeAll()
            direct.add(segment.facts, to: &factsRows, defaultCreatedAt: defaultCreatedAt)
            try connection.putCopyData(factsRows.bytes)
        } else {
            row.removeAll()
            appendToBatch(segment.facts, loadID: id)
            try connection.putCopyData(row.bytes)
        }
        pending.count(segment)
        try segment.writeRejects(to: spool?.output ?? rejects, samples: &summary.sampleDiagnostics)
        if segment.endsBatch { try commitBatch(id: id) }
    }

    /// Appends facts as rows of the batch table, numbering each statement's occurrences in the batch.
    private func appendToBatch(_ facts: [Fact], loadID id: Int64) {
        for fact in facts {
            batchRows += 1
            var occurrence = 1
            if let seen = occurrences[fact.statementHash] { occurrence = seen + 1 }
            occurrences[fact.statementHash] = occurrence
            maxOccurrence = max(maxOccurrence, occurrence)
            row.append(fact, sequence: batchRows, occurrence: occurrence, loadID: id, defaultCreatedAt: defaultCreatedAt)
        }
    }

    /// Ends the COPY, merges the batch into `facts`, records its counts and checkpoint, flushes its
    /// rejects and commits.
    private func commitBatch(id: Int64) throws {
        guard isCopying else { return }
        isCopying = false
        let copied = try connection.endCopy()
        if let direct {
            // Straight into `facts`: the new facts are in; the possible repeats wait for the end of the source.
            // Counted as the server stored them: a row a trigger of the user's kept out is not in `facts` (it
            // counted as inserted, and the ledger and `undo` disagreed with the table), and counts as a
            // duplicate, as in a merge.
            let stored = min(copied, direct.batchInserted)
            pending.inserted += stored
            pending.duplicates += direct.batchInserted - stored
            try direct.endBatch(on: connection)
            return try recordBatch(id: id)
        }
        // The batch table has no statistics: left to itself the planner hashes the whole of `facts` to
        // join it with a batch, where one index probe per batch row is what is cheap.
        try connection.execute("SET LOCAL enable_hashjoin = off")
        try connection.execute("SET LOCAL enable_mergejoin = off")
        if options.conflictPolicy == .fail, let conflict = try firstConflict() {
            throw FactSinkStop.requested(
                .aborted, "\(descriptors.last?.path ?? ""):\(conflict.line): \(conflict.statement) \(conflict.place) "
                    + "(--on-conflict fail)")
        }
        let merged = try Self.merge(
            on: connection, policy: options.conflictPolicy, rounds: maxOccurrence, rows: batchRows, loadID: id)
        pending.inserted += merged.inserted
        pending.updated += merged.updated
        pending.duplicates += merged.duplicates
        try connection.execute("TRUNCATE \(PostgreSQLSchema.batchTable)")
        try recordBatch(id: id)
    }

    /// Records the open batch's counts and checkpoint, flushes its rejects and commits.
    private func recordBatch(id: Int64) throws {
        try (spool?.output ?? rejects)?.flush()
        pending.rejectsOffset = rejects?.bytesWritten ?? 0
        try ledger.record(id: id, counts: pending, status: .running)
        try highWater.remember()
        if isCancelled() { throw FactSinkStop.interrupted }
        if !options.isAtomic { try connection.execute("COMMIT") }
        progress?.committedRecords.add(pending.records - (current?.counts.records ?? 0), ordering: .relaxed)
        current = (id, pending)
        rejectsCommittedSize = rejects?.bytesWritten ?? 0
    }

    /// The first record of the batch whose statement is already stored or came earlier in the batch.
    private func firstConflict() throws -> (line: Int64, statement: String, place: String)? {
        let key = PostgreSQLSchema.key
        let result = try connection.execute("""
            SELECT b.line, b.statement, EXISTS (SELECT 1 FROM facts AS f WHERE \(key("f.statement")) =
                \(key("b.statement")) AND f.statement = b.statement AND f.load_id IS DISTINCT FROM b.load_id)
            FROM \(PostgreSQLSchema.batchTable) AS b
            WHERE EXISTS (SELECT 1 FROM facts AS f WHERE \(key("f.statement")) = \(key("b.statement"))
                AND f.statement = b.statement)
            OR (b.occurrence > 1 AND EXISTS (SELECT 1 FROM \(PostgreSQLSchema.batchTable) AS c
                WHERE c.occurrence < b.occurrence AND c.statement = b.statement))
            ORDER BY b.seq LIMIT 1
            """)
        guard result.rowCount > 0 else { return nil }
        return (result.int64(0, 0), result.text(0, 1) ?? "",
                result.bool(0, 2) ? "is already in the database" : "appears earlier in the input")
    }

    /// Rounds past which a merge indexes the batch table by occurrence: each round then reads its own
    /// rows instead of the whole table (a statement repeated a million times is a million rounds).
    static let roundsWorthAnIndex = 8

    /// Moves the batch table's `rows` rows into `facts` under `policy`, in `rounds` rounds (round n
    /// applies each statement's n-th occurrence); returns what it did. Under `ignore` and `fail` the
    /// first round is the only one that can insert or name a fact: the later ones are left out and their
    /// rows count as duplicates.
    static func merge(
        on connection: PostgreSQLConnection, policy: ConflictPolicy, rounds maxOccurrence: Int, rows batchRows: Int64,
        loadID: Int64, recordsAssertions: Bool = true
    ) throws(PostgreSQLError) -> StagingArea.MergeResult {
        let key = PostgreSQLSchema.key
        // Facts already there from another load that this batch brings again: undoing the load that
        // inserted them keeps them. Under ignore, the first round's insert finds them itself.
        if recordsAssertions && policy != .ignore && policy != .fail {
            try connection.execute("""
                INSERT INTO factpipe_assertions(load_id, fact_id)
                SELECT DISTINCT b.load_id, f.id FROM \(PostgreSQLSchema.batchTable) AS b JOIN facts AS f
                ON \(key("f.statement")) = \(key("b.statement")) AND f.statement = b.statement
                WHERE f.load_id IS DISTINCT FROM b.load_id
                """)
        }
        let columns = """
            statement, predicate, subject, object, args, arity, confidence, source, context, fact_metadata,
            created_at, load_id
            """
        var result = StagingArea.MergeResult()
        let rounds = policy == .ignore || policy == .fail ? 1 : max(1, maxOccurrence)
        if rounds > roundsWorthAnIndex {
            try connection.execute(
                "CREATE INDEX IF NOT EXISTS factpipe_batch_occurrence ON \(PostgreSQLSchema.batchTable) (occurrence)")
            try connection.execute("ANALYZE \(PostgreSQLSchema.batchTable)")
        }
        for round in 1...rounds {
            let select = "SELECT \(columns) FROM \(PostgreSQLSchema.batchTable) WHERE occurrence = $1 ORDER BY seq"
            let conflict = "ON CONFLICT (\(key("statement")))"
            switch policy {
            case .ignore where recordsAssertions && round == 1, .fail where recordsAssertions && round == 1:
                // The facts of other loads are left untouched: named by "updating" each to itself in the
                // insert's conflict, every one got a new version, which fired the user's update triggers (a
                // "last modified" one changed every fact of a load that said 0 updated), bloated the table by a
                // copy of what each load repeated, and waited for the row locks of the program's readers. Here
                // `facts` is probed only for the rows the insert did not insert (a hash anti-join on what it
                // returned), and read as it was when the statement began, so without the rows it inserted: a
                // probe of every row, as for the other policies, made a 100k load into 1M facts 16 % slower.
                let hashJoins = try connection.execute("SELECT pg_catalog.current_setting('enable_hashjoin')")
                    .text(0, 0) ?? "on"
                try connection.execute("SET LOCAL enable_hashjoin = on")
                result.inserted += Int(try connection.execute("""
                    WITH inserted AS (INSERT INTO facts(\(columns)) \(select) \(conflict) DO NOTHING RETURNING statement),
                    asserted AS (INSERT INTO factpipe_assertions(load_id, fact_id)
                        SELECT $2, f.id FROM \(PostgreSQLSchema.batchTable) AS b CROSS JOIN LATERAL (
                            SELECT x.id FROM facts AS x WHERE \(key("x.statement")) = \(key("b.statement"))
                            AND x.statement = b.statement AND x.load_id IS DISTINCT FROM $2 OFFSET 0) AS f
                        WHERE b.occurrence = $1
                        AND NOT EXISTS (SELECT 1 FROM inserted AS i WHERE i.statement = b.statement))
                    SELECT count(*) FROM inserted
                    """, ["\(round)", "\(loadID)"]).int64(0, 0))
                try connection.execute(
                    "SELECT pg_catalog.set_config('enable_hashjoin', $1, true)", [hashJoins])
            case .ignore, .fail:
                result.inserted += try connection.execute(
                    "INSERT INTO facts(\(columns)) \(select) \(conflict) DO NOTHING", ["\(round)"]).affectedRows
            case .replace:
                let counts = try connection.execute("""
                    WITH merged AS (INSERT INTO facts(\(columns)) \(select) \(conflict) DO UPDATE SET
                        predicate = excluded.predicate, subject = excluded.subject, object = excluded.object,
                        args = excluded.args, arity = excluded.arity, confidence = excluded.confidence,
                        source = excluded.source, context = excluded.context, fact_metadata = excluded.fact_metadata,
                        created_at = excluded.created_at, updated_load_id = excluded.load_id
                        RETURNING (xmax = 0) AS fresh)
                    SELECT count(*) FILTER (WHERE fresh), count(*) FILTER (WHERE NOT fresh) FROM merged
                    """, ["\(round)"])
                result.inserted += Int(counts.int64(0, 0))
                result.updated += Int(counts.int64(0, 1))
            case .update:
                let confidence = StagingArea.GivenFields.confidence.rawValue
                let source = StagingArea.GivenFields.source.rawValue
                result.updated += try connection.execute("""
                    UPDATE facts AS f SET
                        confidence = CASE WHEN b.given & \(confidence) <> 0 THEN b.confidence ELSE f.confidence END,
                        source = CASE WHEN b.given & \(source) <> 0 THEN b.source ELSE f.source END,
                        context = \(Self.mergedJSON("context")),
                        fact_metadata = \(Self.mergedJSON("fact_metadata")),
                        updated_load_id = b.load_id
                    FROM \(PostgreSQLSchema.batchTable) AS b
                    WHERE b.occurrence = $1 AND \(key("f.statement")) = \(key("b.statement"))
                        AND f.statement = b.statement
                    """, ["\(round)"]).affectedRows
                result.inserted += try connection.execute(
                    "INSERT INTO facts(\(columns)) \(select) \(conflict) DO NOTHING", ["\(round)"]).affectedRows
            }
        }
        if rounds > roundsWorthAnIndex {
            // The batch table lasts as long as the session and keeps its indexes through TRUNCATE: every
            // later COPY of the load would maintain this one.
            try connection.execute("DROP INDEX IF EXISTS pg_temp.factpipe_batch_occurrence")
        }
        result.duplicates = Int(batchRows) - result.inserted - result.updated
        return result
    }

    /// The SQL of `column` of `facts` (`f`) once the batch's record (`b`) is merged in, as SQLite's store merges
    /// it (`StagingArea.mergedJSON`): a record that gives none (`{}`) leaves the stored value as it is; one that
    /// does is merged as a JSON merge patch. The patch alone turned a stored array, number or string (another
    /// program's, or a hand's) into `{}` when the record gave nothing.
    static func mergedJSON(_ column: String) -> String {
        "CASE WHEN b.\(column) = '{}'::jsonb THEN f.\(column) ELSE factpipe_json_patch(f.\(column), b.\(column)) END"
    }

    /// The source was read to its end: commits its last batch and records it as done.
    private func finishSource(sha256: String?) throws {
        guard let (id, _) = current, let descriptor = descriptors.last else { return }
        if isCopying { try commitBatch(id: id) }
        try completeDirectLoad()
        let counts = current?.counts ?? pending
        try Self.checkCountsAddUp(counts, loadID: id, source: descriptor.path, server: connection.server)
        try inTransaction {
            try ledger.record(id: id, counts: counts, status: .done, finishedAt: Timestamp.now())
            if let sha256, descriptor.sha256 == nil { try ledger.setSHA256(id: id, sha256) }
        }
        finished.append(finishedSource(descriptor, id, counts, .done))
        current = nil
    }

    /// Ends the current source's direct load, if it has one: builds the unique index and merges the
    /// staged repeats in one transaction, and adds what they did to the source's counts.
    private func completeDirectLoad() throws {
        guard direct != nil, let (id, counts) = current else { return }
        direct = nil
        // The secondary indexes are built beside the unique one (the merge waits for them): sources after
        // this one are merged with every index in place.
        let builds = try startMissingIndexes()
        var merged: [Int64: StagingArea.MergeResult] = [:]
        do {
            // The merge's INSERT waits for the builds' locks anyway: waited for before it, on the server, that
            // wait does not count against a `lock_timeout` of the role's (which failed the load on its own
            // builds), and the session is not idle in its transaction meanwhile (as a wait here in the client
            // would be, which an `idle_in_transaction_session_timeout` ends). Each build holds the lock's
            // key shared while it builds.
            try inTransaction {
                merged = try PostgreSQLDirectLoad.complete(on: connection, ledger: ledger) { () throws(PostgreSQLError) in
                    guard builds != nil else { return }
                    // The session's bound on other sessions' locks (`boundLockWaits`) holds again after it.
                    let bound = try connection.execute("SELECT pg_catalog.current_setting('lock_timeout')").text(0, 0)
                    try connection.execute("SET LOCAL lock_timeout = 0")
                    try connection.execute(
                        "SELECT pg_advisory_xact_lock($1::bigint)", ["\(PostgreSQLSchema.indexBuildsLockKey)"])
                    try connection.execute("SELECT pg_catalog.set_config('lock_timeout', $1, true)", [bound ?? "0"])
                }
            }
        } catch {
            try? builds?.wait()
            throw error
        }
        // A build that failed (its connection refused by a role's limit, its backend terminated) takes nothing
        // back: the merge is committed, with its counts in the ledger, and these counts must say the same (the
        // load was recorded failed with counts that did not add up, which no resume could finish). The end
        // of the load builds what is still missing.
        try? builds?.wait()
        var total = counts
        if let result = merged[id] { total.add(result) }
        current = (id, total)
        pending = total
    }

    /// A source is done only when each of its records is accounted for.
    private static func checkCountsAddUp(
        _ counts: LoadLedger.Counts, loadID: Int64, source: String, server: String
    ) throws(PostgreSQLError) {
        let accounted = counts.inserted + counts.updated + counts.duplicates + counts.rejected
        guard accounted != counts.records else { return }
        throw PostgreSQLError(
            server: server,
            message: "load \(loadID) of \(source): its counts do not add up (\(counts.records) records, but "
                + "\(counts.inserted) inserted + \(counts.updated) updated + \(counts.duplicates) duplicates + "
                + "\(counts.rejected) rejected); it is not recorded as done")
    }

    // MARK: The end

    /// Rolls back what is open, keeps what was committed, and records how the load ended.
    private func fail(_ error: Error) {
        if isCopying { connection.abortCopy() }
        isCopying = false
        connection.rollbackQuietly()
        direct?.discardBatch()
        // When this cannot be done (the server is gone), the next writer does it before it writes.
        try? completeDirectLoad()
        direct = nil
        summary.apply(stop: error)
        let ledgerStatus = LoadLedger.Status(stoppedBy: error)
        if options.isAtomic {
            // Nothing of the load stays, its rejects no more than its facts (`AtomicRejects`); each source
            // still gets its row, with nothing committed.
            let finishedAt = Timestamp.now()
            atomicRejects.rollBack(rejects, notes: &summary.notes)
            finished.removeAll()
            for descriptor in descriptors {
                if let id = try? ledger.start(
                    source: descriptor.path, size: descriptor.size, format: descriptor.format.rawValue,
                    compression: descriptor.compression, policy: options.conflictPolicy, startedAt: startedAt,
                    status: ledgerStatus, sha256: descriptor.sha256, rules: ValidationRules.text(options)) {
                    try? ledger.record(id: id, counts: .init(), status: ledgerStatus, finishedAt: finishedAt,
                                       message: summary.message)
                    finished.append(finishedSource(descriptor, id, .init(), ledgerStatus))
                }
            }
            current = nil
            return
        }
        var owners: [RejectsResume.Owner] = []
        if let current, let descriptor = descriptors.last {
            owners.append(.init(source: descriptor.path, fromLine: current.counts.checkpointLine))
        }
        RejectsResume.rollBack(rejects, to: rejectsCommittedSize, owners: owners, notes: &summary.notes)
        if let (id, counts) = current, let descriptor = descriptors.last {
            // When the server is gone this cannot be written: the row stays `running`, and the next load
            // marks it interrupted; its checkpoint is the last committed batch's either way.
            try? ledger.record(id: id, counts: counts, status: ledgerStatus, finishedAt: Timestamp.now(),
                               message: summary.message)
            finished.append(finishedSource(descriptor, id, counts, ledgerStatus))
            current = nil
        }
    }

    /// What this run did: a resumed source's earlier counts are not counted again.
    private func finishSummary() -> ImportSummary {
        summary.count(finished)
        rejects?.noteIfDeleted(rejected: summary.rejected, in: &summary.notes)
        return summary
    }

    /// A source the writer is done with, with the counts its ledger row had when this run began it.
    private func finishedSource(
        _ descriptor: SourceDescriptor, _ id: Int64, _ counts: LoadLedger.Counts, _ status: LoadLedger.Status
    ) -> FinishedSource {
        FinishedSource(descriptor: descriptor, loadID: id, counts: counts, status: status, base: bases[id] ?? .init())
    }
}
