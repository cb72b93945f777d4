/// How a load treats the indexes of `facts`, decided once at its start from the table and the load's size.
///
/// SQLite's index maintenance, not parsing, sets the pace of a bulk load. A load into an empty table,
/// or one larger than the table, drops the secondary indexes and builds each by one sort at its end
/// (faster, and the same database). Such a load may also append its first source straight to `facts`
/// (`DirectAppend`). Under `fail` the staging table gets an index on statements
/// for the check of each batch.
struct IndexStrategy {
    /// The secondary indexes are dropped at the start and built at the end.
    var rebuildsSecondaryIndexes: Bool
    /// The load's first source may append straight to `facts`, if its size suits (`DirectAppend.suits`).
    var mayAppendDirectly: Bool
    /// The facts in the table when the load began, counted until the count passed `countedPast` (the
    /// load's estimated records): every decision compares the table with the load's size.
    var existingFacts: Int64 = 0
    var countedPast: Int64 = .max

    /// Decides from the table, the staging table and the estimated size of the load.
    static func decide(
        database: WriterConnection, staging: StagingArea, policy: ConflictPolicy, estimatedRecords: Int64?
    ) throws(StoreError) -> IndexStrategy {
        let estimate = max(0, estimatedRecords ?? 0)
        let existing = try database.factCount(stoppingPast: estimate)
        let uniqueness = try staging.uniqueness()
        let stagedRows = try staging.lastSequence()
        return IndexStrategy(
            rebuildsSecondaryIndexes: existing == 0 || estimate > existing,
            mayAppendDirectly: DirectAppend.isPossible(
                ids: try staging.factIDs(), uniqueness: uniqueness, stagedRows: stagedRows, policy: policy),
            existingFacts: existing, countedPast: estimate)
    }

    /// Whether the load's first source, of about `sourceRecords` records, appends straight to `facts`
    /// (`DirectAppend.suits`). A source larger than the load's estimate (a file that grew since) has the
    /// table counted again, past its own size.
    func directAppendSuits(sourceRecords: Int64?, database: WriterConnection) throws(StoreError) -> Bool {
        var count = existingFacts
        if count > countedPast, let records = sourceRecords, records > countedPast {
            count = try database.factCount(stoppingPast: records)
        }
        return DirectAppend.suits(sourceRecords: sourceRecords, factCount: count)
    }

    /// Sets the indexes up for the load: the staging table's conflict index under `fail`, the secondary
    /// indexes dropped or, when they are kept, built where an earlier bulk load that was killed left them out.
    func prepare(database: WriterConnection, staging: StagingArea, policy: ConflictPolicy) throws {
        try database.inTransaction {
            if policy == .fail { try staging.setConflictIndex(true) }
            if rebuildsSecondaryIndexes { try database.dropSecondaryIndexes() }
        }
        if !rebuildsSecondaryIndexes { try database.buildMissingSecondaryIndexes() }
    }

    /// Puts the indexes back at the end of a load, or after it failed: builds the missing secondary
    /// indexes and drops the staging table's conflict index.
    static func finish(database: WriterConnection, staging: StagingArea, policy: ConflictPolicy) throws {
        try database.buildMissingSecondaryIndexes()
        if policy == .fail { try database.inTransaction { try staging.setConflictIndex(false) } }
    }
}
