/// The first source of a load into an empty table, or into one smaller than the load: its facts go
/// straight to `facts`, with the unique index dropped, instead of being staged and merged.
///
/// The statements already in `facts` are recorded in the `StatementFilter` first. A statement
/// certainly new (neither in the table nor earlier in the load) goes straight to `facts` and counts
/// as inserted; one that may be there already is staged and merged under the conflict policy, against
/// the table with its unique index back. So `facts` never holds a statement twice and the end of the
/// source rebuilds the unique index by one sort (`StagingArea.restoreUniqueness`).
final class DirectAppend {
    /// What one segment did.
    struct Written {
        var inserted = 0
        var staged = 0
    }

    private let filter = StatementFilter()
    /// The largest id in `facts` before the load appended to it (0 for an empty table): the facts that
    /// a repeat merged later asserts (`StagingArea.merge`); the load's own appended rows are not among them.
    let lastIDBefore: Int64

    /// Prepares a direct append into `facts` as it is now, recording its statements in the filter (one
    /// read of the table, which is smaller than the load).
    /// - Throws: `StoreError` from reading the table.
    init(staging: StagingArea) throws(StoreError) {
        lastIDBefore = try staging.lastFactID()
        guard lastIDBefore > 0 else { return }
        try staging.forEachStatement { [filter] bytes in _ = filter.insert(hash: StatementFilter.hash(bytes)) }
    }

    /// Whether a load may append its first source straight to `facts`: only into a table that is empty
    /// or holds fewer facts than the load is estimated to bring, whose statements are kept unique by
    /// the index (which can be dropped), with nothing staged from an earlier load, and not under
    /// `fail`, which checks every batch against the staging table.
    static func isPossible(
        factCount: Int64, estimatedRecords: Int64?, uniqueness: StagingArea.Uniqueness, stagedRows: Int64,
        policy: ConflictPolicy
    ) -> Bool {
        (factCount == 0 || (estimatedRecords ?? 0) > factCount) && policy != .fail && uniqueness == .index
            && stagedRows == 0
    }

    /// Appends `facts` of load `loadID` through `writer`: the new ones to `facts`, the others staged.
    /// - Throws: `StoreError` from the writer.
    func write(_ facts: [Fact], loadID: Int64, with writer: SQLiteFactWriter) throws(StoreError) -> Written {
        var written = Written()
        filter.prefetch(facts.lazy.map(\.statementHash))
        for fact in facts {
            let seen = filter.insert(hash: fact.statementHash)
            try writer.stage(fact, loadID: loadID, intoFacts: !seen)
            if seen { written.staged += 1 } else { written.inserted += 1 }
        }
        return written
    }
}
