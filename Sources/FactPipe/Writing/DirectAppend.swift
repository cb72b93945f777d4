/// The first source of a load into an empty table, or into one smaller than it: its facts go
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
    /// read of the table, which is smaller than the source).
    /// - Throws: `StoreError` from reading the table.
    init(staging: StagingArea) throws(StoreError) {
        lastIDBefore = try staging.lastFactID()
        guard try staging.connection.scalarInt("SELECT EXISTS (SELECT 1 FROM facts)") == 1 else { return }
        try staging.forEachStatement { [filter] bytes in _ = filter.insert(hash: StatementFilter.hash(bytes)) }
    }

    /// The most facts a table appended to directly may hold: the filter holds them all, and past a
    /// million statements its false positives (each one staged needlessly) grow quickly, from about 1
    /// in 7,000 to 1 in 280 at five million (`StatementFilter`).
    static let maxTableFacts: Int64 = 1_000_000

    /// Whether a load may append its first source straight to `facts`: only into a table whose statements
    /// are kept unique by the index (which can be dropped), with nothing staged from an earlier load,
    /// not under `fail`, which checks every batch against the staging table, and whose ids are all
    /// positive and far from the largest (`ids`, nil for an empty table), so that every row the load
    /// appends has an id above the table's and the rows at or below it are the table's. The size of
    /// the source decides the rest (`suits`).
    static func isPossible(
        ids: ClosedRange<Int64>?, uniqueness: StagingArea.Uniqueness, stagedRows: Int64, policy: ConflictPolicy
    ) -> Bool {
        let idsFit = ids.map { $0.lowerBound > 0 && $0.upperBound < Int64.max / 2 } ?? true
        return idsFit && policy != .fail && uniqueness == .index && stagedRows == 0
    }

    /// Whether a source of about `sourceRecords` records (nil when unknown) suits a direct append
    /// into a table of `factCount` facts: the table is empty, or smaller than the source and at most
    /// `maxTableFacts`.
    static func suits(sourceRecords: Int64?, factCount: Int64) -> Bool {
        factCount == 0 || (factCount <= maxTableFacts && (sourceRecords ?? 0) > factCount)
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
