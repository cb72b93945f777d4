/// The `factpipe_pending_rejects` table in PostgreSQL: the rejects file of an atomic load while its
/// transaction is open (`PendingRejectsEntry`), as `PendingRejects` keeps it in SQLite. It exists only
/// while such rows do.
struct PostgreSQLPendingRejects {
    static let table = "factpipe_pending_rejects"
    let connection: PostgreSQLConnection

    private func exists() throws(PostgreSQLError) -> Bool {
        try connection.execute("SELECT to_regclass($1) IS NOT NULL", [Self.table]).bool(0, 0)
    }

    /// The rows that outlived their load, one entry per load.
    func leftOver() throws(PostgreSQLError) -> [PendingRejectsEntry] {
        guard try exists() else { return [] }
        let result = try connection.execute(
            "SELECT token, path, size, source FROM \(Self.table) ORDER BY token, ordinal")
        var entries: [PendingRejectsEntry] = []
        for row in 0..<result.rowCount {
            let token = result.int64(row, 0)
            let source = result.text(row, 3) ?? ""
            if entries.last?.token == token {
                entries[entries.count - 1].sources.append(source)
            } else {
                entries.append(PendingRejectsEntry(
                    token: token, path: result.text(row, 1) ?? "", size: result.int64(row, 2), sources: [source]))
            }
        }
        return entries
    }

    /// Records `entry`, one row per source; the caller commits it before the load's transaction begins.
    func record(_ entry: PendingRejectsEntry) throws(PostgreSQLError) {
        try connection.executeScript(
            "CREATE TABLE IF NOT EXISTS \(Self.table)(token bigint NOT NULL, ordinal integer NOT NULL, "
                + "path text NOT NULL, size bigint NOT NULL, source text NOT NULL)")
        for (ordinal, source) in entry.sources.enumerated() {
            _ = try connection.execute(
                "INSERT INTO \(Self.table)(token, ordinal, path, size, source) VALUES ($1, $2, $3, $4, $5)",
                [String(entry.token), String(ordinal), entry.path, String(entry.size), source])
        }
    }

    /// Deletes the rows of `token`, and the table once it is empty.
    func forget(token: Int64) throws(PostgreSQLError) {
        guard try exists() else { return }
        _ = try connection.execute("DELETE FROM \(Self.table) WHERE token = $1", [String(token)])
        if try !connection.execute("SELECT EXISTS (SELECT 1 FROM \(Self.table))").bool(0, 0) {
            try connection.executeScript("DROP TABLE \(Self.table)")
        }
    }
}
