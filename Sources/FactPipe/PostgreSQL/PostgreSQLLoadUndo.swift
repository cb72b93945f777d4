/// `factpipe undo` in PostgreSQL: the SQLite store's `LoadUndo`, in one server transaction under the
/// writer lock. A fact the load inserted stays while another load that is not undone also brought it
/// (it then belongs to the earliest of them); the other facts it inserted are deleted; facts it only
/// updated or replaced keep the values it gave them. The ledger row is marked `undone`.
enum PostgreSQLLoadUndo {
    /// Undoes load `loadID` of the database at `address`, waiting up to `lockTimeoutSeconds` for a
    /// running load to finish.
    /// - Throws: `PostgreSQLError` when the server cannot be reached, the database is not factpipe's, the
    ///   load does not exist or was undone.
    static func undo(
        loadID: Int64, address: PostgreSQLAddress, lockTimeoutSeconds: Double
    ) throws(PostgreSQLError) -> LoadUndo.Result {
        let connection = try PostgreSQLConnection(address: address, applicationName: "factpipe undo \(loadID)")
        try PostgreSQLSchema.checkReadable(connection)
        // A writer: it may complete a stopped load's merge, which calls both functions.
        try PostgreSQLSchema.checkFunctionOwners(connection)
        try PostgreSQLWriterLock.take(on: connection, timeoutSeconds: lockTimeoutSeconds, isCancelled: { false })
        try PostgreSQLWriterLock.boundLockWaits(on: connection, seconds: lockTimeoutSeconds)
        let ledger = PostgreSQLLedger(connection: connection)
        guard let found = try ledger.entry(id: loadID) else {
            throw PostgreSQLError(server: connection.server, message: "there is no load \(loadID)")
        }
        guard found.status != LoadLedger.Status.undone.rawValue else {
            throw PostgreSQLError(server: connection.server, message: "load \(loadID) was already undone")
        }
        // A load left running by a process that died holds no lock any more.
        try ledger.markAbandoned()
        // A load killed while it copied straight into `facts` is completed first, so that none of it comes back later.
        try PostgreSQLDirectLoad.recover(on: connection, ledger: ledger)
        // And the secondary indexes such a load had dropped, as its next load would build them.
        let present = try PostgreSQLSchema.existingSecondaryIndexes(connection)
        for index in PostgreSQLSchema.secondaryIndexes where !present.contains(index.name) {
            try connection.execute(index.sql)
        }
        // The completion added its merge's counts to the row: they are the ones kept.
        let entry = try ledger.entry(id: loadID) ?? found
        let id = ["\(loadID)"]
        var result = LoadUndo.Result()
        try connection.execute("BEGIN")
        do throws(PostgreSQLError) {
            result.leftUpdated = Int(try connection.scalarInt(
                "SELECT count(*) FROM facts WHERE updated_load_id = $1 AND load_id <> $1", id) ?? 0)
            try connection.execute("""
                CREATE TEMP TABLE factpipe_undo_owner ON COMMIT DROP AS
                SELECT a.fact_id, min(a.load_id) AS load_id FROM factpipe_assertions AS a
                JOIN factpipe_loads AS l ON l.id = a.load_id
                WHERE a.load_id <> $1 AND l.status <> 'undone' GROUP BY a.fact_id
                """, id)
            result.keptForOtherLoads = try connection.execute("""
                UPDATE facts SET load_id = o.load_id FROM pg_temp.factpipe_undo_owner AS o
                WHERE facts.id = o.fact_id AND facts.load_id = $1
                """, id).affectedRows
            result.deleted = try connection.execute("DELETE FROM facts WHERE load_id = $1", id).affectedRows
            try connection.execute("""
                DELETE FROM factpipe_assertions AS a WHERE a.load_id = $1
                OR NOT EXISTS (SELECT 1 FROM facts AS f WHERE f.id = a.fact_id AND f.load_id IS DISTINCT FROM a.load_id)
                """, id)
            let message = "undone: \(result.deleted) facts deleted, \(result.keptForOtherLoads) kept because "
                + "another load also brought them, \(result.leftUpdated) updated facts left as they are"
            try ledger.record(
                id: loadID, counts: entry.counts, status: .undone, finishedAt: Timestamp.now(), message: message)
            try connection.execute("COMMIT")
        } catch {
            connection.rollbackQuietly()
            throw error
        }
        return result
    }
}
