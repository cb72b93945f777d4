/// Completes what a killed or failed load left in the database, before the next load writes to it.
///
/// A load that appended straight to `facts` and stopped before its end left the unique index out:
/// it is built again, with the repeated statements moved to the staging table. Then whatever waits
/// in the staging table (a killed load's committed batches, or those of a load whose final merge
/// failed) is merged under its own load's conflict policy, and the ledger says how each load ended.
struct LoadRecovery {
    let database: WriterConnection
    let ledger: LoadLedger
    let staging: StagingArea

    /// Rebuilds the unique index if it is missing, then merges every load's staged rows, each load's own.
    /// - Throws: `StoreError`; each step is one transaction, so a failure leaves the database as it was
    ///   before that step.
    /// `undoing` a load, a load's rows that a constraint refuses (one of the user's) stay staged, and the rest
    /// goes on: two such loads could otherwise never be undone, each undo failing on the other's rows. The
    /// load being undone is merged as every other (so its undo gives what it gives after any later import
    /// merged them), and left staged whatever its merge fails on (a full disk would otherwise keep it from
    /// ever being undone); its rows left so are for the undo to discard.
    /// - Returns: the loads whose rows stayed staged so, with the reason.
    @discardableResult
    ///
    /// `merged` hears each load whose staged rows were merged, with what the merge did (counted in that
    /// load's ledger row).
    func run(
        undoing: Int64? = nil, merged: (Int64, StagingArea.MergeResult) -> Void = { _, _ in }
    ) throws -> [(loadID: Int64, reason: String)] {
        let direct = try completeDirectLoad()
        let left = try recoverStagedRows(direct: direct, undoing: undoing, merged: merged)
        // Rows of loads that died with nothing staged (before their first commit) still say `running`.
        try database.inTransaction { try ledger.markAbandoned(finishedAt: Timestamp.now()) }
        return left
    }

    /// Completes a load that appended straight to `facts` and was killed (or failed) before its end
    /// rebuilt the unique index: builds it, and stages its repeated statements for
    /// `recoverStagedRows` to merge, taking them out of the load's inserted count
    /// (`StagingArea.restoreUniqueness`); returns the load and the largest id before its first row.
    private func completeDirectLoad() throws -> (loadID: Int64, lastIDBefore: Int64?)? {
        guard try staging.uniqueness() == .missing else {
            // A row left beside an index built again by hand, or by an earlier release's writer.
            if try staging.uniqueIndexDroppedBy() != nil {
                try database.inTransaction { try staging.settleMarks() }
            }
            return nil
        }
        var direct: (loadID: Int64, lastIDBefore: Int64?)?
        try database.withSortCache {
            try database.inTransaction {
                // An index someone else dropped: built again, or refused when rows repeat a statement.
                guard try staging.loadSetUniqueIndexAside() else {
                    try staging.buildUniqueIndexKeepingEveryRow()
                    try staging.settleMarks()
                    return
                }
                direct = try staging.interruptedDirectLoad()
                let load = direct ?? (loadID: 0, lastIDBefore: nil)
                let moved = try staging.restoreUniqueness(loadID: load.loadID)
                try staging.settleMarks()
                guard let entry = try ledger.entry(id: load.loadID) else { return }
                var counts = entry.counts
                counts.inserted -= moved
                if entry.status == LoadLedger.Status.running.rawValue {
                    try ledger.record(
                        id: load.loadID, counts: counts, status: .interrupted, finishedAt: Timestamp.now(),
                        message: "the process stopped without finishing; its committed batches were kept")
                } else {
                    try ledger.setInserted(id: load.loadID, counts.inserted)
                }
            }
        }
        return direct
    }

    /// The rows of `direct`, the load that appended straight to `facts`, merge as its own end would
    /// have merged them: facts asserted only up to the largest id before it.
    private func recoverStagedRows(
        direct: (loadID: Int64, lastIDBefore: Int64?)?, undoing: Int64?, merged: (Int64, StagingArea.MergeResult) -> Void
    ) throws -> [(loadID: Int64, reason: String)] {
        let ids = try staging.loadsWithStagedRows()
        guard !ids.isEmpty else { return [] }
        var left: [(loadID: Int64, reason: String)] = []
        try database.withSortCache {
            for id in ids {
                do {
                    if let result = try merge(id, direct: direct) { merged(id, result) }
                } catch let error as StoreError where undoing != nil && (error.isConstraintViolation || id == undoing) {
                    left.append((id, error.reason))
                }
            }
        }
        return left
    }

    /// Merges load `id`'s staged rows under its policy and records it, in one transaction.
    /// Returns what the merge did; nil when the load has no ledger row (its rows are discarded).
    private func merge(_ id: Int64, direct: (loadID: Int64, lastIDBefore: Int64?)?) throws -> StagingArea.MergeResult? {
        var result: StagingArea.MergeResult?
        try database.inTransaction {
            guard let entry = try ledger.entry(id: id) else {
                try staging.discard(loadID: id)
                return
            }
            let merged = try staging.merge(
                loadID: id, policy: entry.policy,
                lastIDBeforeLoad: direct?.loadID == id ? direct?.lastIDBefore ?? nil : nil)
            var counts = entry.counts
            counts.add(merged)
            // A killed load was `running`; one that failed or was aborted keeps its status (and stays
            // resumable): merging its batches does not finish it, the rest of its input was never read.
            let killed = entry.status == LoadLedger.Status.running.rawValue
            let status: LoadLedger.Status =
                killed ? .interrupted : LoadLedger.Status(rawValue: entry.status) ?? .failed
            let note = killed ? "the process stopped without finishing; its committed batches were merged"
                : "it stopped before the end of its input (\(entry.status)); its committed batches were "
                    + "merged by a later load, and --resume loads the rest"
            try ledger.record(
                id: id, counts: counts, status: status, finishedAt: Timestamp.now(), message: note)
            result = merged
        }
        return result
    }
}
