/// The merge under `--on-conflict update`: what a record gives wins, what it leaves out stays; the
/// row, its id and its creation time are kept.
///
/// An `ON CONFLICT … DO UPDATE` can only see the columns of `facts` (`excluded.*`), not which fields
/// the staged record gave. So the staged rows go, in statement and input order, into a temporary
/// view whose `INSTEAD OF` trigger upserts each one with its `given` bits at hand. Context and
/// metadata are merged key by key (`json_patch`), so a record without them changes neither.
extension StagingArea {
    /// The side fields a staged record gave (`factpipe_staging.given`; NULL, from rows staged by an
    /// earlier factpipe, counts as all of them). The creation time is never updated: a fact is
    /// created once.
    struct GivenFields: OptionSet {
        let rawValue: Int64
        static let confidence = GivenFields(rawValue: 1)
        static let source = GivenFields(rawValue: 2)
        static let all: GivenFields = [.confidence, .source]

        init(rawValue: Int64) {
            self.rawValue = rawValue
        }

        /// What `fact`'s record gave.
        init(_ fact: Fact) {
            var given: GivenFields = []
            if fact.isConfidenceGiven { given.insert(.confidence) }
            if fact.range(of: .source) != nil { given.insert(.source) }
            self = given
        }
    }

    private static let updateView = "factpipe_update_merge"

    /// The SQL of `column` (quoted if need be) once a conflicting record's value (`excluded`) is merged in: a
    /// record that gives no object leaves the stored value as it is (an array, a number, text that is no JSON,
    /// its spacing); one that does is merged into a stored object and replaces anything else, as a JSON merge
    /// patch does. `json_patch` alone failed on stored text that is no JSON (another program's, or a hand's):
    /// the merge failed, its rows stayed staged, and every later load failed merging them.
    static func mergedJSON(_ column: String) -> String {
        "CASE WHEN excluded.\(column) = '{}' THEN \(column) "
            + "WHEN json_valid(\(column)) AND json_type(\(column)) = 'object' THEN json_patch(\(column), excluded.\(column)) "
            + "ELSE excluded.\(column) END"
    }

    /// Upserts every staged row of `loadID` into `facts`, each conflict updating only what its record gave.
    func mergeKeepingOmittedFields(loadID: Int64, pieces: [MergePiece] = [.all]) throws(StoreError) {
        let all = GivenFields.all.rawValue
        let given = "coalesce(NEW.given, \(all))"
        try connection.execute("""
            DROP VIEW IF EXISTS temp.\(Self.updateView);
            CREATE TEMP VIEW \(Self.updateView) AS SELECT statement, predicate, subject, object, args, arity,
            confidence, source, context, fact_metadata, created_at, load_id, given FROM main.factpipe_staging;
            CREATE TEMP TRIGGER \(Self.updateView)_row INSTEAD OF INSERT ON \(Self.updateView) BEGIN
                INSERT INTO facts(statement, predicate, subject, object, args, arity, confidence, source, context,
                fact_metadata, created_at, load_id)
                VALUES (NEW.statement, NEW.predicate, NEW.subject, NEW.object, NEW.args, NEW.arity, NEW.confidence,
                NEW.source, NEW.context, NEW.fact_metadata, NEW.created_at, NEW.load_id)
                ON CONFLICT(statement) DO UPDATE SET
                confidence = CASE WHEN \(given) & \(GivenFields.confidence.rawValue) THEN excluded.confidence
                    ELSE confidence END,
                source = CASE WHEN \(given) & \(GivenFields.source.rawValue) THEN excluded.source ELSE source END,
                context = \(Self.mergedJSON("context")),
                fact_metadata = \(Self.mergedJSON("fact_metadata")),
                updated_load_id = excluded.load_id;
            END;
            """)
        defer { try? connection.execute("DROP VIEW IF EXISTS temp.\(Self.updateView)") }
        let insert = try connection.prepare("""
            INSERT INTO \(Self.updateView) SELECT statement, predicate, subject, object, args, arity, confidence,
            source, context, fact_metadata, created_at, load_id, given FROM factpipe_staging
            WHERE load_id = ?1 AND \(Self.pieceCondition(first: 2)) ORDER BY statement, seq
            """)
        for piece in pieces {
            try insert.bind(1, loadID)
            try Self.bind(piece, to: insert, first: 2)
            _ = try insert.step()
            insert.reset()
        }
    }
}
