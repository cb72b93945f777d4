/// The first source of a load into an empty table: its facts go straight to `facts`, with the unique
/// index dropped, instead of being staged and merged.
///
/// A statement certainly new (by `StatementFilter`) goes straight to `facts` and counts as inserted;
/// one that may have come before is staged and merged under the conflict policy. So `facts` never
/// holds a statement twice and the end of the source rebuilds the unique index by one sort
/// (`StagingArea.restoreUniqueness`).
final class DirectAppend {
    /// What one segment did.
    struct Written {
        var inserted = 0
        var staged = 0
    }

    private let filter = StatementFilter()

    /// Whether a load may append its first source straight to `facts`: only into an empty table whose
    /// statements are kept unique by the index (which can be dropped), with nothing staged from an
    /// earlier load, and not under `fail`, which checks every batch against the staging table.
    static func isPossible(
        factCount: Int64, uniqueness: StagingArea.Uniqueness, stagedRows: Int64, policy: ConflictPolicy
    ) -> Bool {
        factCount == 0 && policy != .fail && uniqueness == .index && stagedRows == 0
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
