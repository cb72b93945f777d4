/// The writer stage for `--into-existing`: loads into a database with the knowledge base's own schema.
///
/// It writes through the columns the target's `facts` table has (read with `PRAGMA table_info`,
/// never assumed), one transaction a batch, so the target's own triggers fire for every row. It never
/// alters the target: no tables, indexes, ledger or pragmas that persist — so such a load has no
/// ledger row and cannot be resumed (it refuses `resume`); a failure rolls back the open batch and
/// keeps the earlier ones. Every other option is honoured as for a factpipe database: refused records
/// go to the rejects file, an atomic load is one transaction from start to end, and the page cache
/// has the size asked for.
final class ExistingDatabaseStore: FactSink {
    private let options: ImportOptions
    private let startedAt: String
    private let isCancelled: () -> Bool
    private let progress: ImportProgress?
    private let lock: WriterLock
    private let connection: SQLiteConnection
    private let file: OpenedDatabaseFile
    private let insert: SQLiteStatement
    private let bindings: [(index: Int32, value: (Fact, String) -> String?)]
    private let confidenceIndex: Int32?
    private let arityIndex: Int32?
    /// The parameter that carries a record's given fields under `update`, when the table has them.
    private let givenIndex: Int32?
    /// The statement's parameter.
    private let statementIndex: Int32
    /// The stored text of each statement the table holds in another spelling than the canonical one
    /// (`HasPart(ImmanuelKant,ThingInItself).`), by its canonical form: a record of that fact binds the
    /// stored text, so the table's own uniqueness finds it.
    private var storedSpellings: [String: String]
    /// `PRAGMA data_version` when the table was last looked at: another connection's commit changes it
    /// (`lookAgainIfOthersWrote`).
    private var lastDataVersion: Int64
    /// The largest rowid looked at; nil for a WITHOUT ROWID table, looked at whole again.
    private var lastSeenRowid: Int64?
    /// Whether a statement is stored: through the table's own index, or, for a `statement` with no UNIQUE
    /// constraint, through a temporary table of the stored statements (a lookup in `facts` itself read the
    /// whole table for each fact: 12 s for 2,000 facts into 200,000).
    private let lookup: SQLiteStatement
    /// Asked before each insert: for a WITHOUT ROWID `facts` under an upsert (no rowid tells an insert from an
    /// update), and for a `statement` with no UNIQUE constraint (nothing else finds the stored fact).
    private let asksFirst: Bool
    /// For a `statement` with no UNIQUE constraint: adds an inserted statement to the temporary table.
    private let remember: SQLiteStatement?
    private let hasRowid: Bool
    /// False when nothing in the table makes `statement` unique: each insert then asks `lookup` first.
    private let statementIsUnique: Bool
    private var counts = LoadLedger.Counts()
    private var committed = LoadLedger.Counts()
    private var descriptors: [SourceDescriptor] = []
    private var summary = ImportSummary()
    private let rejects: BufferedFileOutput?
    /// Size of the rejects file after the last commit; a rollback cuts it back to this.
    private var rejectsCommittedSize: Int64 = 0

    /// Opens the target, reads its `facts` columns and prepares the insert for the conflict policy.
    /// - Throws: `ImportOptionError` for `resume`; `StoreError` when the target has no `facts` table
    ///   with a `statement` column, or when `update` is asked of a table without a unique statement;
    ///   `FileOutputError` for the rejects file.
    init(options: ImportOptions, startedAt: String, progress: ImportProgress?, isCancelled: @escaping () -> Bool) throws {
        if options.resume {
            throw ImportOptionError(.resume, "--resume needs factpipe's ledger; --into-existing has none")
        }
        self.options = options
        self.startedAt = startedAt
        self.progress = progress
        self.isCancelled = isCancelled
        try DatabaseFile.check(options.databasePath, mustExist: true)
        try FactDatabase.checkMayWrite(options.databasePath)
        try WriterLock.checkRejectsNotHeld(options)
        lock = try WriterLock(databasePath: options.databasePath, timeoutSeconds: options.lockTimeoutSeconds,
                              description: "import into the existing database, started \(startedAt)",
                              isCancelled: isCancelled)
        if let rejects = options.rejectsPath { try BufferedFileOutput.checkNotHeld(rejects, what: "rejects file") }
        connection = try SQLiteConnection(path: options.databasePath, create: false)
        file = OpenedDatabaseFile(path: connection.path)
        connection.setBusyTimeout(milliseconds: options.database.busyTimeoutMilliseconds)
        // The cache size lasts as long as the connection: the target keeps its own setting.
        try connection.execute("PRAGMA cache_size=-\(options.database.cacheKiB)")
        let info = try connection.prepare("SELECT name, dflt_value FROM pragma_table_info('facts') ORDER BY cid")
        // SQLite's column names are case-insensitive: `Confidence` is the confidence column (it was never
        // written). Each is known by its lower-case name, and written under its own.
        var names: [String] = []
        var spelled: [String: String] = [:]
        var defaults: [String: String] = [:]
        while try info.step() {
            guard let name = info.text(0) else { continue }
            names.append(name.lowercased())
            spelled[name.lowercased()] = name
            if let value = info.text(1) { defaults[name.lowercased()] = value }
        }
        guard names.contains("statement") else {
            throw StoreError(kind: .foreignDatabase, path: options.databasePath,
                             message: "cannot load into it: it has no facts table with a statement column")
        }
        let values: [String: (Fact, String) -> String?] = [
            "statement": { fact, _ in fact.statement }, "predicate": { fact, _ in fact.predicate },
            "subject": { fact, _ in fact.subject }, "object": { fact, _ in fact.object },
            "args": { fact, _ in fact[.args] }, "source": { fact, _ in fact.source },
            "context": { fact, _ in fact.context }, "fact_metadata": { fact, _ in fact.metadata },
            "metadata": { fact, _ in fact.metadata }, "created_at": { fact, now in fact.createdAt ?? now },
        ]
        var columns: [String] = []
        var bindings: [(Int32, (Fact, String) -> String?)] = []
        for name in names {
            if let value = values[name] {
                columns.append(name)
                bindings.append((Int32(columns.count), value))
            }
        }
        var confidence: Int32?
        if names.contains("confidence") { columns.append("confidence"); confidence = Int32(columns.count) }
        var arity: Int32?
        if names.contains("arity") { columns.append("arity"); arity = Int32(columns.count) }
        self.bindings = bindings
        statementIndex = bindings.first { columns[Int($0.0) - 1] == "statement" }?.0 ?? 1
        let hasRowid = (try? connection.prepare("SELECT rowid FROM facts LIMIT 0")) != nil
        // Taken before the first look: what another program commits after them is looked at again.
        lastSeenRowid = hasRowid ? try connection.scalarInt("SELECT coalesce(max(rowid), 0) FROM facts") ?? 0 : nil
        lastDataVersion = try connection.scalarInt("PRAGMA data_version") ?? 0
        storedSpellings = try Self.storedSpellings(connection)
        self.hasRowid = hasRowid
        // SQLite accepts ON CONFLICT(statement) only when a UNIQUE constraint or index is on it alone.
        let statementIsUnique =
            (try? connection.prepare(
                "INSERT INTO facts(\"\(spelled["statement"] ?? "statement")\") VALUES (NULL) ON CONFLICT(statement) DO NOTHING"))
            != nil
        self.statementIsUnique = statementIsUnique
        let upserts = options.conflictPolicy == .replace || options.conflictPolicy == .update
        if upserts, !statementIsUnique {
            throw StoreError(
                kind: .foreignDatabase, path: options.databasePath,
                message: "cannot --on-conflict \(options.conflictPolicy.rawValue) into it: nothing makes its statement "
                    + "column unique (no UNIQUE constraint or index on it alone), so a stored fact cannot be found to "
                    + "update; use ignore or fail, which look each statement up first")
        }
        // Only a rowid tells an upsert's insert from its update; and with no UNIQUE statement, only a lookup
        // finds the stored fact.
        asksFirst = !statementIsUnique || (upserts && !hasRowid)
        if statementIsUnique {
            lookup = try connection.prepare("SELECT 1 FROM facts WHERE statement = ?1")
            remember = nil
        } else {
            // In the connection's temporary database, gone with it: the target gets nothing that persists.
            try connection.execute("""
                CREATE TEMP TABLE factpipe_stored_statements(statement TEXT PRIMARY KEY) WITHOUT ROWID;
                INSERT OR IGNORE INTO temp.factpipe_stored_statements
                    SELECT statement FROM main.facts WHERE statement IS NOT NULL;
                """)
            lookup = try connection.prepare("SELECT 1 FROM temp.factpipe_stored_statements WHERE statement = ?1")
            remember = try connection.prepare("INSERT OR IGNORE INTO temp.factpipe_stored_statements VALUES (?1)")
        }
        confidenceIndex = confidence
        arityIndex = arity
        // A NULL we have no value for takes the column's own default (its source 'system', say).
        let placeholders = columns.enumerated().map { index, name in
            defaults[name].map { "coalesce(?\(index + 1), \($0))" } ?? "?\(index + 1)"
        }.joined(separator: ", ")
        func quote(_ name: String) -> String { "\"" + (spelled[name] ?? name).replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        let quoted = columns.map(quote).joined(separator: ", ")
        let verb: String
        var clause = ""
        givenIndex = options.conflictPolicy == .update && (columns.contains("confidence") || columns.contains("source"))
            ? Int32(columns.count + 1) : nil
        // OR ABORT, whatever conflict clause the table's constraints carry (`NOT NULL ON CONFLICT IGNORE` dropped a
        // new fact, `UNIQUE ON CONFLICT REPLACE` replaced a stored row under fail): only the upsert clause below
        // decides what a stored statement does.
        verb = "INSERT OR ABORT"
        switch options.conflictPolicy {
        case .ignore, .fail:
            // Not INSERT OR IGNORE: it ignored every constraint of the table's (NOT NULL, CHECK, another UNIQUE),
            // and a new fact that broke one was counted as a duplicate and lost. Only the stored statement is.
            clause = options.conflictPolicy == .ignore && statementIsUnique ? "ON CONFLICT(statement) DO NOTHING" : ""
        case .replace:
            let sets = columns.filter { $0 != "statement" }.map { "\(quote($0)) = excluded.\(quote($0))" }
            clause = "ON CONFLICT(statement) DO UPDATE SET " + sets.joined(separator: ", ")
        case .update:
            // What the record leaves out stays: ?\(given) holds the fields it gave (StagingArea.GivenFields).
            let given = columns.count + 1
            var sets: [String] = []
            for (field, bit) in [("confidence", StagingArea.GivenFields.confidence), ("source", .source)]
            where columns.contains(field) {
                let column = quote(field)
                sets.append("\(column) = CASE WHEN ?\(given) & \(bit.rawValue) THEN excluded.\(column) ELSE \(column) END")
            }
            // As factpipe's own merge does (`StagingArea.mergedJSON`): json_patch alone made `{}` of a stored
            // array or number, and failed the load on text that is no JSON.
            for json in ["context", "fact_metadata", "metadata"] where columns.contains(json) {
                let column = quote(json)
                sets.append("\(column) = \(StagingArea.mergedJSON(column))")
            }
            clause = sets.isEmpty ? "ON CONFLICT(statement) DO NOTHING" : "ON CONFLICT(statement) DO UPDATE SET "
                + sets.joined(separator: ", ")
        }
        insert = try connection.prepare("\(verb) INTO facts(\(quoted)) VALUES (\(placeholders)) \(clause)")
        rejects = try options.rejectsPath.map {
            try BufferedFileOutput.rejects(
                path: $0, startsAfresh: !options.appendsRejects, isCancelled: isCancelled,
                attributes: .like(database: options.databasePath))
        }
        if options.appendsRejects { try rejects?.endTornLine() }
        rejectsCommittedSize = rejects?.bytesWritten ?? 0
    }

    func plan(_ inputs: [String]) throws -> [SourcePlan] {
        var planner = InputPlanner(options: options, ledger: nil)
        return try planner.plan(inputs)
    }

    /// Its one transaction commits after the last input, so an interrupt before that takes it all back.
    func run(_ messages: BoundedQueue<WriterMessage>, estimatedRecords: Int64?, sourcesToRead: Int) -> ImportSummary {
        do {
            while let message = messages.pop() {
                if isCancelled() { throw FactSinkStop.interrupted }
                switch message {
                case .begin(let descriptor): descriptors.append(descriptor)
                case .segment(let segment): try write(segment)
                case .end: break
                case .stop(let status, let message): throw FactSinkStop.requested(status, message)
                }
            }
            if isCancelled() { throw FactSinkStop.interrupted }
            if connection.isInTransaction { try commit() }
            try file.check(connection)
            try rejects?.close()
            summary.status = .done
        } catch {
            // SQLite refuses to write a file moved since it was opened (in rollback-journal mode) with "attempt
            // to write a readonly database": say what happened.
            var stop = FactSinkStop.reported(error, isCancelled: isCancelled)
            do { try file.check(connection) } catch { stop = error }
            connection.rollbackQuietly()
            summary.apply(stop: stop)
            // No ledger records where a batch began: any line of this load's inputs past the last commit is
            // the rolled-back batch's.
            RejectsResume.rollBack(
                rejects, to: rejectsCommittedSize, owners: descriptors.map { .init(source: $0.path, fromLine: 0) },
                notes: &summary.notes)
            try? rejects?.close()
        }
        summary.records = committed.records
        summary.inserted = committed.inserted
        summary.updated = committed.updated
        summary.duplicates = committed.duplicates
        summary.rejected = committed.rejected
        summary.warnings = committed.warnings
        return summary
    }

    private func write(_ segment: FactSegment) throws {
        if !connection.isInTransaction {
            try connection.execute("BEGIN IMMEDIATE")
            counts = committed
            try lookAgainIfOthersWrote()
        }
        for fact in segment.facts {
            for (index, value) in bindings { try insert.bind(index, value(fact, startedAt)) }
            // Most databases spell every fact canonically: no lookup, no comparison then.
            let stored = storedSpellings.isEmpty ? nil : storedSpellings[fact.statement]
            if let stored { try insert.bind(statementIndex, stored) }
            if let confidenceIndex { try insert.bind(confidenceIndex, fact.confidence) }
            if let arityIndex { try insert.bind(arityIndex, fact.arity) }
            if let givenIndex { try insert.bind(givenIndex, StagingArea.GivenFields(fact).rawValue) }
            let existed = asksFirst ? try isStored(stored ?? fact.statement) : nil
            let place = "\(descriptors.last?.path ?? ""):\(fact.line)"
            if existed == true, !statementIsUnique {
                // Nothing in the table would refuse a second copy: the lookup decides.
                guard options.conflictPolicy == .ignore else { throw alreadyStored(fact, at: place) }
                counts.duplicates += 1
                continue
            }
            connection.resetLastInsertRowid()
            do {
                try insert.step()
            } catch {
                insert.reset()
                guard error.isConstraintViolation else { throw error }
                // SQLite checks NOT NULL and CHECK before the statement's uniqueness: a stored fact whose record
                // breaks one is still a duplicate (ignore) or a stop (fail).
                if options.conflictPolicy == .ignore || options.conflictPolicy == .fail, try isStored(stored ?? fact.statement) {
                    guard options.conflictPolicy == .ignore else { throw alreadyStored(fact, at: place) }
                    counts.duplicates += 1
                    continue
                }
                // Another constraint of the table's own: the fact cannot be stored as it is, and is not a duplicate.
                throw FactSinkStop.requested(.failed, "\(place): \(fact.statement) breaks a constraint of the database's "
                    + "facts table (\(error.reason)); "
                    + (options.isAtomic ? "nothing of this load is kept (--atomic)" : "the batches committed before it stay"))
            }
            insert.reset()
            // Read before anything else runs on the connection: they describe the insert.
            let changed = connection.changes > 0
            let insertedRow = connection.lastInsertRowid != 0
            if let remember, changed {
                try remember.bind(1, stored ?? fact.statement)
                _ = try remember.step()
                remember.reset()
            }
            if !changed {
                counts.duplicates += 1
            } else if existed ?? (hasRowid && !insertedRow) {
                counts.updated += 1
            } else {
                counts.inserted += 1
            }
        }
        counts.records += segment.records
        counts.rejected += segment.rejects.count
        counts.warnings += segment.warnings
        if let rejects {
            for diagnostic in segment.rejects { try rejects.write(diagnostic.rejectLine) }
        }
        if summary.sampleDiagnostics.count < 10 {
            summary.sampleDiagnostics.append(contentsOf: segment.rejects.prefix(10 - summary.sampleDiagnostics.count))
        }
        // An atomic load commits once, at the end of its input.
        if segment.endsBatch && !options.isAtomic {
            if isCancelled() { throw FactSinkStop.interrupted }
            try commit()
        }
    }

    /// Every statement of `facts` stored in another spelling than its canonical form, by that form (one
    /// of them, when several spell one fact), unless the canonical text is stored too: a record then finds
    /// that row itself. One pass over the statements before the load (0.55 s for a million canonical ones;
    /// memory for the respelled ones only). In no order: a table may be WITHOUT ROWID.
    private static func storedSpellings(_ connection: SQLiteConnection) throws(StoreError) -> [String: String] {
        let rows = try connection.prepare("SELECT statement FROM facts")
        var spellings: [String: String] = [:]
        while try rows.step() {
            guard let stored = rows.text(0), let canonical = canonicalIfRespelled(stored), spellings[canonical] == nil
            else { continue }
            spellings[canonical] = stored
        }
        guard !spellings.isEmpty else { return spellings }
        let lookup = try connection.prepare("SELECT 1 FROM facts WHERE statement = ?1")
        for canonical in Array(spellings.keys) {
            try lookup.bind(1, canonical)
            if try lookup.step() { spellings[canonical] = nil }
            lookup.reset()
        }
        return spellings
    }

    /// Looks at the rows another program stored since the last look (the knowledge base's service writing
    /// the same table between this load's batches), once this load holds the write lock: their spellings,
    /// and for a `statement` with no UNIQUE constraint, their statements. Looked at only before the first
    /// batch, a fact the service stored as `P(a,b).` meanwhile was stored again as `P(a, b).` (1,839 facts
    /// twice in one load that said done). Rows are told apart by rowid: another program's rows are those
    /// past the largest rowid looked at (appended, as SQLite gives rowids); a row it inserts with an id of
    /// its own below that, or a statement it respells by UPDATE, is not looked at.
    private func lookAgainIfOthersWrote() throws {
        let version = try connection.scalarInt("PRAGMA data_version") ?? 0
        guard version != lastDataVersion else { return }
        lastDataVersion = version
        let rows = try connection.prepare(
            lastSeenRowid == nil ? "SELECT NULL, statement FROM facts" : "SELECT rowid, statement FROM facts WHERE rowid > ?1")
        if let lastSeenRowid { try rows.bind(1, lastSeenRowid) }
        var found: [String: String] = [:]
        while try rows.step() {
            if lastSeenRowid != nil { lastSeenRowid = max(lastSeenRowid ?? 0, rows.int64(0)) }
            guard let stored = rows.text(1) else { continue }
            if let remember {
                try remember.bind(1, stored)
                _ = try remember.step()
                remember.reset()
            }
            if let canonical = Self.canonicalIfRespelled(stored), storedSpellings[canonical] == nil, found[canonical] == nil {
                found[canonical] = stored
            }
        }
        for (canonical, stored) in found where try !isStored(canonical) { storedSpellings[canonical] = stored }
    }

    /// The canonical form of a stored statement spelt otherwise; nil for a canonical one or one that does not parse.
    private static func canonicalIfRespelled(_ stored: String) -> String? {
        guard let parsed = try? StatementParser.parse(stored, limits: ForeignFactRow.lenientLimits),
              !parsed.canonical.utf8.elementsEqual(stored.utf8)
        else { return nil }
        return parsed.canonical
    }

    /// True when `statement` is stored as it is spelt.
    private func isStored(_ statement: String) throws -> Bool {
        defer { lookup.reset() }
        try lookup.bind(1, statement)
        return try lookup.step()
    }

    /// The stop of `--on-conflict fail` at a stored fact.
    private func alreadyStored(_ fact: Fact, at place: String) -> FactSinkStop {
        FactSinkStop.requested(.aborted, "\(place): \(fact.statement) is already in the database (--on-conflict fail)")
    }

    /// Commits the open transaction with the rejects written before it.
    private func commit() throws {
        try rejects?.flush()
        // Under the write lock the rows past the last look are this load's own: not read again at the next look.
        if lastSeenRowid != nil { lastSeenRowid = try connection.scalarInt("SELECT coalesce(max(rowid), 0) FROM facts") }
        try file.check(connection)
        try connection.execute("COMMIT")
        rejectsCommittedSize = rejects?.bytesWritten ?? 0
        progress?.committedRecords.add(counts.records - committed.records, ordering: .relaxed)
        committed = counts
    }
}
