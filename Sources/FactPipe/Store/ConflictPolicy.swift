/// What a load does when a fact's canonical statement is already in the database.
public enum ConflictPolicy: String, Sendable, CaseIterable {
    /// Keep the existing fact; the new one counts as a duplicate. The first one wins.
    case ignore
    /// Overwrite every data column of the existing fact (its id and inserting load stay).
    case replace
    /// Keep the row and its creation time; take the confidence and source the record gives (what it
    /// leaves out stays), merge context and metadata key by key (`StagingArea.mergeKeepingOmittedFields`).
    case update
    /// Abort the load at the first conflict.
    case fail

    /// The `ON CONFLICT` clause of the insert statement.
    var upsertClause: String {
        switch self {
        case .ignore, .fail:
            // `fail` checks each batch when it commits: a statement met at the merge came from another
            // program since (or a migration of its spelling), and merges as a duplicate.
            return "ON CONFLICT(statement) DO NOTHING"
        case .replace:
            return """
                ON CONFLICT(statement) DO UPDATE SET predicate = excluded.predicate, subject = excluded.subject,
                object = excluded.object, args = excluded.args, arity = excluded.arity,
                confidence = excluded.confidence, source = excluded.source, context = excluded.context,
                fact_metadata = excluded.fact_metadata, created_at = excluded.created_at,
                updated_load_id = excluded.load_id
                """
        case .update:
            // `update` needs each record's given fields: `StagingArea.mergeKeepingOmittedFields` merges it.
            return ""
        }
    }
}
