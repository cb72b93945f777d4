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
final class PostgreSQLFactStore: FactSink {
    private let options: ImportOptions
    private let startedAt: String
    private let isCancelled: () -> Bool
    private let progress: ImportProgress?
    private let connection: PostgreSQLConnection
    private let ledger: PostgreSQLLedger
    private let rejects: BufferedFileOutput?
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
    /// Size of the rejects file after the last commit; a rollback cuts it back to this.
    private var rejectsCommittedSize: Int64 = 0
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
        self.progress = progress
        self.startedAt = startedAt
        self.isCancelled = isCancelled
        defaultCreatedAt = startedAt
        connection = try PostgreSQLConnection(address: address, applicationName: "factpipe import")
        try PostgreSQLWriterLock.take(
            on: connection, timeoutSeconds: options.lockTimeoutSeconds, isCancelled: isCancelled)
        try PostgreSQLSchema.prepare(connection)
        try connection.execute(PostgreSQLSchema.createBatchTable)
        ledger = PostgreSQLLedger(connection: connection)
        // Loads left running hold no lock any more: their process died after their last commit.
        try ledger.markAbandoned()
        rejects = try options.rejectsPath.map {
            try BufferedFileOutput(path: $0, append: options.resume || options.appendsRejects)
        }
        rejectsCommittedSize = rejects?.bytesWritten ?? 0
    }

    /// Decides for each input whether to load it, skip it (its content is in the ledger as done) or
    /// resume its interrupted load, from the ledger and the input's SHA-256 (as `FactStore.plan`).
    func plan(_ inputs: [String]) throws -> [SourcePlan] {
        var plans: [SourcePlan] = []
        for path in inputs {
            let sha256 = try FileHasher.sha256(path: path)
            var plan = SourcePlan(path: path, sha256: sha256, action: .load)
            if options.resume, let latest = try ledger.latest(source: path),
               ![LoadLedger.Status.done.rawValue, LoadLedger.Status.undone.rawValue].contains(latest.status) {
                guard let sha256, latest.sha256 == sha256 else {
                    throw PostgreSQLError(
                        server: connection.server,
                        message: "\(path) cannot be resumed: "
                            + (sha256 == nil ? "only regular files can be resumed"
                               : "it changed since load \(latest.id) (SHA-256 \(latest.sha256?.prefix(12) ?? "unknown")… "
                                 + "then, \(sha256?.prefix(12) ?? "")… now); load it again without --resume"))
                }
                let entry = try ledger.entry(id: latest.id)
                plan.action = .resume(loadID: latest.id, offset: entry?.counts.checkpointOffset ?? 0,
                                      line: entry?.counts.checkpointLine ?? 1)
            } else if !options.force, let sha256, let done = try ledger.doneLoad(sha256: sha256) {
                plan.action = .skip(reason: "the same content (SHA-256 \(sha256.prefix(12))…) was loaded by load "
                    + "\(done.id) from \(done.source); --force loads it again")
            } else if !options.force, let sha256,
                      let earlier = plans.first(where: { $0.sha256 == sha256 && $0.action == .load }) {
                plan.action = .skip(reason: "the same content (SHA-256 \(sha256.prefix(12))…) as \(earlier.path), "
                    + "loaded earlier in this run; --force loads it again")
            }
            if case .skip(let reason) = plan.action { summary.skipped.append((path, reason)) }
            plans.append(plan)
        }
        return plans
    }

    /// Runs the writer until the messages end or the load stops; returns the committed summary.
    func run(_ messages: BoundedQueue<WriterMessage>, estimatedRecords: Int64?) -> ImportSummary {
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
            if isCancelled() { throw FactSinkStop.interrupted }
            if options.isAtomic { try connection.execute("COMMIT") }
            try buildMissingIndexes()
            summary.status = .done
        } catch {
            fail(error)
            // Committed batches are kept; the next load builds the indexes if this cannot.
            try? buildMissingIndexes()
        }
        try? rejects?.close()
        return finishSummary()
    }

    // MARK: Indexes

    /// Drops the secondary indexes before a load into an empty table, or one larger than the table
    /// (building them once after is far cheaper than updating them row by row); otherwise builds any
    /// that a killed load left out. An atomic load keeps them: dropping one would hold a lock that blocks
    /// readers until its end. A drop that must wait for a reader longer than two seconds is given up.
    private func prepare(estimatedRecords: Int64?) throws {
        let isEmpty = try !connection.execute("SELECT EXISTS (SELECT 1 FROM facts)").bool(0, 0)
        let estimatedRows = try connection.scalarInt(
            "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = to_regclass('facts')") ?? 0
        let rebuilds = !options.isAtomic && (isEmpty || (estimatedRecords ?? 0) > estimatedRows)
        guard rebuilds else { return try buildMissingIndexes() }
        let present = try PostgreSQLSchema.existingSecondaryIndexes(connection)
        let dropping = PostgreSQLSchema.secondaryIndexes.filter { present.contains($0.name) }
        guard !dropping.isEmpty else { return }
        do {
            try inTransaction {
                try connection.execute("SET LOCAL lock_timeout = '2s'")
                for index in dropping { try connection.execute("DROP INDEX IF EXISTS \(index.name)") }
            }
        } catch let error as PostgreSQLError where error.sqlState == "55P03" || error.sqlState == "42501" {
            // A reader holds the table, or the role may write it but does not own it: load with the indexes
            // in place.
        }
    }

    /// Builds the secondary indexes that are missing (each `CREATE INDEX` lets readers go on).
    private func buildMissingIndexes() throws {
        let present = try PostgreSQLSchema.existingSecondaryIndexes(connection)
        for index in PostgreSQLSchema.secondaryIndexes where !present.contains(index.name) {
            try connection.execute(index.sql)
        }
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
            if let rejects, entry.rejectsPath == options.rejectsPath {
                // Lines written after the checkpoint belonged to a batch that never committed.
                try rejects.truncate(to: entry.counts.rejectsOffset)
                rejectsCommittedSize = entry.counts.rejectsOffset
            }
            try inTransaction { try ledger.record(id: id, counts: counts, status: .running) }
            defaultCreatedAt = try ledger.startedAt(id: id) ?? startedAt
        } else {
            try inTransaction {
                id = try ledger.start(
                    source: descriptor.path, size: descriptor.size, format: descriptor.format.rawValue,
                    compression: descriptor.compression, policy: options.conflictPolicy, startedAt: startedAt,
                    sha256: descriptor.sha256)
                try ledger.setRejectsPath(id: id, options.rejectsPath)
            }
            defaultCreatedAt = startedAt
        }
        descriptors.append(descriptor)
        current = (id, counts)
        pending = counts
        bases[id] = counts
    }

    /// Sends one segment's facts into the open batch's COPY (opening both when none is open), and
    /// commits when the segment ends a batch.
    private func write(_ segment: FactSegment) throws {
        guard let (id, committed) = current else { return }
        if !isCopying {
            if !options.isAtomic { try connection.execute("BEGIN") }
            try connection.beginCopy("COPY factpipe_batch (\(PostgreSQLCopyRow.batchColumns)) FROM STDIN")
            isCopying = true
            pending = committed
            batchRows = 0
            occurrences.removeAll(keepingCapacity: true)
            maxOccurrence = 0
        }
        row.removeAll()
        for fact in segment.facts {
            batchRows += 1
            var occurrence = 1
            if let seen = occurrences[fact.statementHash] { occurrence = seen + 1 }
            occurrences[fact.statementHash] = occurrence
            maxOccurrence = max(maxOccurrence, occurrence)
            row.append(fact, sequence: batchRows, occurrence: occurrence, loadID: id, defaultCreatedAt: defaultCreatedAt)
        }
        try connection.putCopyData(row.bytes)
        pending.count(segment)
        try segment.writeRejects(to: rejects, samples: &summary.sampleDiagnostics)
        if segment.endsBatch { try commitBatch(id: id) }
    }

    /// Ends the COPY, merges the batch into `facts`, records its counts and checkpoint, flushes its
    /// rejects and commits.
    private func commitBatch(id: Int64) throws {
        guard isCopying else { return }
        isCopying = false
        try connection.endCopy()
        // The batch table has no statistics: left to itself the planner hashes the whole of `facts` to
        // join it with a batch, where one index probe per batch row is what is cheap.
        try connection.execute("SET LOCAL enable_hashjoin = off")
        try connection.execute("SET LOCAL enable_mergejoin = off")
        if options.conflictPolicy == .fail, let conflict = try firstConflict() {
            throw FactSinkStop.requested(
                .aborted, "\(descriptors.last?.path ?? ""):\(conflict.line): \(conflict.statement) \(conflict.place) "
                    + "(--on-conflict fail)")
        }
        let merged = try merge()
        pending.inserted += merged.inserted
        pending.updated += merged.updated
        pending.duplicates += merged.duplicates
        try connection.execute("TRUNCATE factpipe_batch")
        try rejects?.flush()
        pending.rejectsOffset = rejects?.bytesWritten ?? 0
        try ledger.record(id: id, counts: pending, status: .running)
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
            FROM factpipe_batch AS b
            WHERE EXISTS (SELECT 1 FROM facts AS f WHERE \(key("f.statement")) = \(key("b.statement"))
                AND f.statement = b.statement)
            OR (b.occurrence > 1 AND EXISTS (SELECT 1 FROM factpipe_batch AS c
                WHERE c.occurrence < b.occurrence AND c.statement = b.statement))
            ORDER BY b.seq LIMIT 1
            """)
        guard result.rowCount > 0 else { return nil }
        return (result.int64(0, 0), result.text(0, 1) ?? "",
                result.bool(0, 2) ? "is already in the database" : "appears earlier in the input")
    }

    /// Moves the batch into `facts` under the load's policy; returns what it did.
    private func merge() throws -> StagingArea.MergeResult {
        let key = PostgreSQLSchema.key
        // Facts already there from another load that this batch brings again: undoing the load that
        // inserted them keeps them.
        try connection.execute("""
            INSERT INTO factpipe_assertions(load_id, fact_id)
            SELECT DISTINCT b.load_id, f.id FROM factpipe_batch AS b JOIN facts AS f
            ON \(key("f.statement")) = \(key("b.statement")) AND f.statement = b.statement
            WHERE f.load_id IS DISTINCT FROM b.load_id
            """)
        let columns = """
            statement, predicate, subject, object, args, arity, confidence, source, context, fact_metadata,
            created_at, load_id
            """
        var result = StagingArea.MergeResult()
        for round in 1...max(1, maxOccurrence) {
            let select = "SELECT \(columns) FROM factpipe_batch WHERE occurrence = $1 ORDER BY seq"
            let conflict = "ON CONFLICT (\(key("statement")))"
            switch options.conflictPolicy {
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
                        context = factpipe_json_patch(f.context, b.context),
                        fact_metadata = factpipe_json_patch(f.fact_metadata, b.fact_metadata),
                        updated_load_id = b.load_id
                    FROM factpipe_batch AS b
                    WHERE b.occurrence = $1 AND \(key("f.statement")) = \(key("b.statement"))
                        AND f.statement = b.statement
                    """, ["\(round)"]).affectedRows
                result.inserted += try connection.execute(
                    "INSERT INTO facts(\(columns)) \(select) \(conflict) DO NOTHING", ["\(round)"]).affectedRows
            }
        }
        result.duplicates = Int(batchRows) - result.inserted - result.updated
        return result
    }

    /// The source was read to its end: commits its last batch and records it as done.
    private func finishSource(sha256: String?) throws {
        guard let (id, _) = current, let descriptor = descriptors.last else { return }
        if isCopying { try commitBatch(id: id) }
        let counts = current?.counts ?? pending
        try Self.checkCountsAddUp(counts, loadID: id, source: descriptor.path, server: connection.server)
        try inTransaction {
            try ledger.record(id: id, counts: counts, status: .done, finishedAt: Timestamp.now())
            if let sha256, descriptor.sha256 == nil { try ledger.setSHA256(id: id, sha256) }
        }
        finished.append(finishedSource(descriptor, id, counts, .done))
        current = nil
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
        summary.apply(stop: error)
        let ledgerStatus: LoadLedger.Status
        switch error {
        case FactSinkStop.interrupted: ledgerStatus = .interrupted
        case FactSinkStop.requested(let requested, _): ledgerStatus = requested == .failed ? .failed : .aborted
        default: ledgerStatus = .failed
        }
        if options.isAtomic {
            // Nothing of the load stays; each source still gets its row, with nothing committed.
            let finishedAt = Timestamp.now()
            for descriptor in descriptors {
                if let id = try? ledger.start(
                    source: descriptor.path, size: descriptor.size, format: descriptor.format.rawValue,
                    compression: descriptor.compression, policy: options.conflictPolicy, startedAt: startedAt,
                    status: ledgerStatus) {
                    try? ledger.record(id: id, counts: .init(), status: ledgerStatus, finishedAt: finishedAt,
                                       message: summary.message)
                    finished.append(finishedSource(descriptor, id, .init(), ledgerStatus))
                }
            }
            current = nil
            return
        }
        try? rejects?.truncate(to: rejectsCommittedSize)
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
        return summary
    }

    /// A source the writer is done with, with the counts its ledger row had when this run began it.
    private func finishedSource(
        _ descriptor: SourceDescriptor, _ id: Int64, _ counts: LoadLedger.Counts, _ status: LoadLedger.Status
    ) -> FinishedSource {
        FinishedSource(descriptor: descriptor, loadID: id, counts: counts, status: status, base: bases[id] ?? .init())
    }
}
