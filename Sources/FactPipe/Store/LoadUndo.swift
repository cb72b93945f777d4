/// Takes one load back out of a database: the facts it inserted that no later load changed.
///
/// A fact belongs to the load that inserted it (`load_id`); a load that replaced or updated it is
/// recorded in `updated_load_id`. Undo of load N deletes the facts with `load_id = N` whose
/// `updated_load_id` is NULL or N. Facts that a later load changed stay (they are that load's
/// work too), and facts that load N only updated keep their new values: the database keeps no
/// history of what they were before. The ledger row is marked `undone`.
public enum LoadUndo {
    /// What an undo did.
    public struct Result: Sendable, Equatable {
        public var deleted = 0
        /// Facts the load inserted that a later load replaced or updated: kept.
        public var keptChangedLater = 0
        /// Facts that already existed and that the load updated or replaced: left as they are.
        public var leftUpdated = 0
    }

    /// Undoes load `loadID` of the database at `databasePath`, waiting up to `lockTimeoutSeconds` for a
    /// running load to finish.
    /// - Throws: `StoreError` when the load does not exist, is still recorded as running, or was undone.
    public static func undo(loadID: Int64, databasePath: String, lockTimeoutSeconds: Double = 60) throws -> Result {
        // Nothing is created, not even a lock file, for a database that is missing or not factpipe's.
        try FactDatabase.checkWritable(path: databasePath, mustExist: true)
        let lock = try WriterLock(databasePath: databasePath, timeoutSeconds: lockTimeoutSeconds,
                                  description: "undo of load \(loadID)")
        defer { withExtendedLifetime(lock) {} }
        let connection = try FactDatabase.openForWriting(path: databasePath)
        let ledger = try LoadLedger(connection: connection)
        guard let entry = try ledger.entry(id: loadID) else {
            throw StoreError(kind: .sqlite(code: 1), path: databasePath, message: "there is no load \(loadID)")
        }
        guard entry.status != LoadLedger.Status.undone.rawValue else {
            throw StoreError(kind: .sqlite(code: 1), path: databasePath, message: "load \(loadID) was already undone")
        }
        if try StagingArea(connection: connection).stagedCount(loadID: loadID) > 0 {
            throw StoreError(kind: .sqlite(code: 1), path: databasePath,
                             message: "load \(loadID) has staged facts; run any import into this database first "
                                + "so they are merged, then undo it")
        }
        var result = Result()
        try connection.execute("BEGIN IMMEDIATE")
        do {
            result.keptChangedLater = Int(try connection.scalarInt("""
                SELECT count(*) FROM facts WHERE load_id = \(loadID)
                AND updated_load_id IS NOT NULL AND updated_load_id != \(loadID)
                """) ?? 0)
            result.leftUpdated = Int(try connection.scalarInt("""
                SELECT count(*) FROM facts WHERE updated_load_id = \(loadID) AND load_id != \(loadID)
                """) ?? 0)
            try connection.execute("""
                DELETE FROM facts WHERE load_id = \(loadID) AND (updated_load_id IS NULL OR updated_load_id = \(loadID))
                """)
            result.deleted = connection.changes
            try ledger.record(
                id: loadID, counts: entry.counts, status: .undone, finishedAt: Timestamp.now(),
                message: "undone: \(result.deleted) facts deleted, \(result.keptChangedLater) kept because a later "
                    + "load changed them, \(result.leftUpdated) updated facts left as they are")
            try connection.execute("COMMIT")
        } catch {
            connection.rollbackQuietly()
            throw error
        }
        return result
    }
}
