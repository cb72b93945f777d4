/// Takes one load back out of a database: the facts it brought that no other live load brought too.
///
/// A fact belongs to the load that inserted it (`load_id`); every other load that brought the same
/// statement again (a duplicate it skipped, an update or a replacement) is recorded in
/// `factpipe_assertions`. Undo of load N:
/// - a fact N inserted stays while another load that is not undone asserted it; it then belongs to
///   the earliest of them (its `load_id` changes), so undoing that one later takes it out;
/// - the other facts N inserted are deleted;
/// - facts that N only updated or replaced keep the values N gave them (and a fact N inserted that a
///   later load changed keeps that load's values): the database keeps no history of earlier values.
/// The ledger row is marked `undone`.
///
/// Loads made before factpipe recorded assertions (`records_assertions = 0`) left a trace only of
/// the facts they replaced or updated; the duplicates they skipped are unknown, so a fact such a
/// load brought only as a duplicate is deleted with its inserting load. The result counts the live
/// loads of that kind that reported duplicates, and the ledger message names them.
public enum LoadUndo {
    /// What an undo did.
    public struct Result: Sendable, Equatable {
        public var deleted = 0
        /// Facts the load inserted that another live load also brought: kept, now that load's.
        public var keptForOtherLoads = 0
        /// Facts that already existed and that the load updated or replaced: left as they are.
        public var leftUpdated = 0
        /// Live loads recorded before assertions were, whose skipped duplicates are unknown.
        public var loadsWithUnknownDuplicates: [Int64] = []
        /// Committed records of the load that still waited in the staging table, discarded unmerged.
        public var discardedStaged = 0
        /// Other loads whose staged rows a constraint kept from merging (they stay staged), with the reason.
        public var otherLoadsLeftStaged: [Int64] = []
        public var otherLoadsLeftStagedReasons: [String] = []
    }

    /// Undoes load `loadID` of the database at `databasePath`, waiting up to `lockTimeoutSeconds` for a
    /// running load to finish.
    /// - Throws: `StoreError` of kind `.noSuchLoad` when the ledger has no such load, `.cannotUndo` when
    ///   it was undone already or its facts are still staged; other kinds when the database fails.
    ///
    /// With `progress`, a cancel (SIGINT, SIGTERM) interrupts the statement that runs: the transaction rolls
    /// back and the undo throws `StoreError` `.interrupted`; once it committed, the undo stands and returns.
    public static func undo(
        loadID: Int64, databasePath: String, lockTimeoutSeconds: Double = 60, progress: ImportProgress? = nil
    ) throws -> Result {
        if let address = PostgreSQLAddress(databasePath) {
            return try PostgreSQLLoadUndo.undo(loadID: loadID, address: address, lockTimeoutSeconds: lockTimeoutSeconds)
        }
        // Nothing is created, not even a lock file, for a database that is missing or not factpipe's.
        try FactDatabase.checkWritable(path: databasePath, mustExist: true)
        let lock = try WriterLock(databasePath: databasePath, timeoutSeconds: lockTimeoutSeconds,
                                  description: "undo of load \(loadID)") {
            progress?.isCancelled.load(ordering: .relaxed) == true
        }
        defer { withExtendedLifetime(lock) {} }
        let connection = try FactDatabase.openForWriting(path: databasePath)
        let interrupter = SQLiteInterrupter(connection.handle)
        defer { interrupter.disarm() }
        progress?.whenCancelled { interrupter.interrupt() }
        do {
            return try undo(loadID: loadID, databasePath: databasePath, connection: connection, progress: progress)
        } catch {
            guard progress?.isCancelled.load(ordering: .relaxed) == true else { throw error }
            throw StoreError(
                kind: .interrupted, path: databasePath,
                message: "interrupted; the undo of load \(loadID) was rolled back, the database is as it was")
        }
    }

    private static func undo(
        loadID: Int64, databasePath: String, connection: SQLiteConnection, progress: ImportProgress?
    ) throws -> Result {
        try FactSchema.migrate(connection)
        let ledger = try LoadLedger(connection: connection)
        guard let found = try ledger.entry(id: loadID) else {
            throw StoreError(kind: .noSuchLoad, path: databasePath, message: "there is no load \(loadID)")
        }
        guard found.status != LoadLedger.Status.undone.rawValue else {
            throw StoreError(kind: .cannotUndo, path: databasePath, message: "load \(loadID) was already undone")
        }
        // Then what a killed load left, as the next import would: its unique index, the staged batches merged
        // (this load's too: the undo gives what it gives after any import merged them, and the row's counts
        // add up), the secondary indexes it had dropped. Undone, the database is one a reader can use.
        // This load's batches that its merge fails on (a constraint of the user's, a full disk) are not merged
        // but discarded, in the transaction that marks it undone (such a merge held the database: every later
        // load and this undo failed on the same rows; discarded apart, a failure after would have lost them with
        // the load not undone).
        let database = WriterConnection(connection: connection, settings: DatabaseSettings(), isAtomic: false)
        let left = try LoadRecovery(database: database, ledger: ledger, staging: StagingArea(connection: connection))
            .run(undoing: loadID)
            .filter { $0.loadID != loadID }
        try database.buildMissingSecondaryIndexes()
        // The merge recorded its counts in the row.
        let entry = try ledger.entry(id: loadID) ?? found
        var result = Result()
        result.otherLoadsLeftStaged = left.map(\.loadID)
        result.otherLoadsLeftStagedReasons = left.map(\.reason)
        try connection.execute("BEGIN IMMEDIATE")
        do {
            try StagingArea(connection: connection).discard(loadID: loadID)
            result.discardedStaged = connection.changes
            // Records discarded so were never inserted, updated nor duplicates: out of the count of the
            // records the row says it took, so that its counts still add up.
            var counts = entry.counts
            counts.records = max(0, counts.records - result.discardedStaged)
            result.leftUpdated = Int(try connection.scalarInt("""
                SELECT count(*) FROM facts WHERE updated_load_id = \(loadID) AND load_id != \(loadID)
                """) ?? 0)
            // Each fact another live load asserted, with the earliest such load: one scan of the assertions.
            try connection.execute("""
                DROP TABLE IF EXISTS temp.factpipe_undo_owner;
                CREATE TEMP TABLE factpipe_undo_owner(fact_id INTEGER PRIMARY KEY, load_id INTEGER NOT NULL);
                INSERT INTO temp.factpipe_undo_owner(fact_id, load_id)
                SELECT a.fact_id, min(a.load_id) FROM factpipe_assertions AS a
                JOIN factpipe_loads AS l ON l.id = a.load_id
                WHERE a.load_id != \(loadID) AND l.status != 'undone' GROUP BY a.fact_id;
                """)
            defer { try? connection.execute("DROP TABLE IF EXISTS temp.factpipe_undo_owner") }
            try connection.execute("""
                UPDATE facts
                SET load_id = (SELECT o.load_id FROM temp.factpipe_undo_owner AS o WHERE o.fact_id = facts.id)
                WHERE load_id = \(loadID) AND id IN (SELECT fact_id FROM temp.factpipe_undo_owner)
                """)
            result.keptForOtherLoads = connection.changes
            try connection.execute("DELETE FROM facts WHERE load_id = \(loadID)")
            result.deleted = connection.changes
            // Rows of this load, of facts that are gone, and of a fact's own load mean nothing any more.
            try connection.execute("""
                DELETE FROM factpipe_assertions WHERE load_id = \(loadID)
                OR NOT EXISTS (SELECT 1 FROM facts AS f WHERE f.id = factpipe_assertions.fact_id
                    AND f.load_id IS NOT factpipe_assertions.load_id)
                """)
            result.loadsWithUnknownDuplicates = try connection.textColumn("""
                SELECT id FROM factpipe_loads WHERE records_assertions = 0 AND status != 'undone'
                AND id != \(loadID) AND duplicates > 0 ORDER BY id
                """).compactMap { Int64($0) }
            var message = "undone: \(result.deleted) facts deleted, \(result.keptForOtherLoads) kept because "
                + "another load also brought them, \(result.leftUpdated) updated facts left as they are"
            if !result.loadsWithUnknownDuplicates.isEmpty {
                message += "; loads \(result.loadsWithUnknownDuplicates.map(String.init).joined(separator: ", ")) "
                    + "were made before factpipe recorded which loads bring a fact, so facts they brought only as "
                    + "duplicates may be among those deleted"
            }
            try ledger.record(
                id: loadID, counts: counts, status: .undone, finishedAt: Timestamp.now(), message: message)
            // A signal that came after the last statement: not committed, as it asked.
            if progress?.isCancelled.load(ordering: .relaxed) == true {
                throw StoreError(kind: .interrupted, path: databasePath, message: "interrupted")
            }
            // Not into a file that lost its name meanwhile (`OpenedDatabaseFile`).
            try database.commit()
        } catch {
            connection.rollbackQuietly()
            throw error
        }
        return result
    }
}
