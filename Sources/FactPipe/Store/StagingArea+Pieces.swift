/// How a merge is cut so that its sort fits beside the page cache.
///
/// A merge sorts the staged rows by statement before it writes them. SQLite's sorter keeps up to a
/// page cache's worth of rows in memory (32 MiB by default) on top of the page cache itself, and a
/// merge into a table with its indexes needs that whole cache: 200,000 facts into a million peaked at
/// 107 MB, 33 MB of it during the sort. So a merge whose rows outweigh `sortBytes` is cut into pieces by
/// statement range, each sorted and written in turn. Pieces follow one another in statement order,
/// and equal statements always fall into the same piece, so the rows reach `facts` in exactly the
/// order of one sort (statement, then input order): every conflict policy sees what it saw before.
/// Each piece reads the staged rows once more; the sort of each is smaller.
extension StagingArea {
    /// The statements from `from` (inclusive) to `below` (exclusive); nil is open-ended.
    struct MergePiece: Equatable {
        var from: String?
        var below: String?

        static let all = MergePiece(from: nil, below: nil)
    }

    /// Rows sampled to weigh the staged rows and place the cuts.
    static let mergeSampleRows = 1_024
    /// A merge is never cut into more pieces than this: each piece reads every staged row.
    static let mostMergePieces = 8

    /// Statement ranges that split the merge of load `loadID`'s `stagedRows` rows into sorts of about
    /// `sortBytes` each, from a sample of rows spread over the load; one piece (`MergePiece.all`) when
    /// the rows fit.
    func mergePieces(loadID: Int64, stagedRows: Int, sortBytes: Int) throws(StoreError) -> [MergePiece] {
        guard stagedRows > 1, sortBytes > 0 else { return [.all] }
        // The cuts are ordered as SQLite orders text in a UTF-8 database; one converted to UTF-16 (which
        // orders its text otherwise) is merged whole.
        guard try connection.scalarText("PRAGMA encoding") == "UTF-8" else { return [.all] }
        // The ends of the staging table, from its rowid B-tree (a load holds the writer lock, and the rows of
        // earlier loads were merged as it began: the rows are its own; another's would only be skipped).
        let range = try connection.prepare(
            "SELECT (SELECT min(seq) FROM factpipe_staging), (SELECT max(seq) FROM factpipe_staging)")
        guard try range.step(), !range.isNull(0) else { return [.all] }
        let first = range.int64(0), last = range.int64(1)

        // The sorter holds each row's columns, its key and a few words of its own.
        let row = try connection.prepare("""
            SELECT statement, 48 + 2 * length(CAST(statement AS BLOB)) + length(CAST(predicate AS BLOB))
            + length(CAST(subject AS BLOB)) + coalesce(length(CAST(object AS BLOB)), 0) + length(CAST(args AS BLOB))
            + coalesce(length(CAST(source AS BLOB)), 0) + length(CAST(context AS BLOB))
            + length(CAST(fact_metadata AS BLOB)) + length(CAST(created_at AS BLOB))
            FROM factpipe_staging WHERE seq >= ?1 AND load_id = ?2 ORDER BY seq LIMIT 1
            """)
        let samples = min(stagedRows, Self.mergeSampleRows)
        let span = Double(last - first)
        var statements: [String] = []
        statements.reserveCapacity(samples)
        var sampledBytes = 0
        for index in 0..<samples {
            let seq = first + Int64((span * Double(index) / Double(max(1, samples - 1))).rounded(.down))
            try row.bind(1, seq)
            try row.bind(2, loadID)
            if try row.step(), let statement = row.text(0) {
                statements.append(statement)
                sampledBytes += Int(row.int64(1))
            }
            row.reset()
        }
        guard !statements.isEmpty else { return [.all] }
        let estimatedBytes = Double(sampledBytes) / Double(statements.count) * Double(stagedRows)
        let count = min(Self.mostMergePieces, Int((estimatedBytes / Double(sortBytes)).rounded(.up)))
        guard count > 1 else { return [.all] }

        // SQLite compares text byte by byte (BINARY), so the cuts are ordered the same way.
        statements.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var cuts: [String] = []
        for piece in 1..<count {
            let cut = statements[piece * statements.count / count]
            if cut != cuts.last && cut != statements[0] { cuts.append(cut) }
        }
        guard !cuts.isEmpty else { return [.all] }
        var pieces: [MergePiece] = []
        var from: String?
        for cut in cuts {
            pieces.append(MergePiece(from: from, below: cut))
            from = cut
        }
        pieces.append(MergePiece(from: from, below: nil))
        return pieces
    }

    /// The condition that selects a piece's rows, with its bounds at parameters `first` and `first + 1`.
    static func pieceCondition(first: Int32) -> String {
        "(?\(first) IS NULL OR statement >= ?\(first)) AND (?\(first + 1) IS NULL OR statement < ?\(first + 1))"
    }

    /// Binds `piece`'s bounds to `statement` at parameters `first` and `first + 1`.
    static func bind(_ piece: MergePiece, to statement: SQLiteStatement, first: Int32) throws(StoreError) {
        try statement.bind(first, piece.from)
        try statement.bind(first + 1, piece.below)
    }
}
