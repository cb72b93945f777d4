/// The `factpipe_pending_rejects` table: the rejects file of an atomic load while its transaction is
/// open (`PendingRejectsEntry`). It exists only while such rows do: the load that empties it drops it,
/// so a database no atomic load was ever killed in keeps its schema as it was.
struct PendingRejects {
    static let table = "factpipe_pending_rejects"
    let connection: SQLiteConnection

    /// The rows that outlived their load, one entry per load.
    func leftOver() throws(StoreError) -> [PendingRejectsEntry] {
        guard try connection.userTables().contains(Self.table) else { return [] }
        let statement = try connection.prepare(
            "SELECT token, path, size, source FROM \(Self.table) ORDER BY token, rowid")
        var entries: [PendingRejectsEntry] = []
        while try statement.step() {
            let token = statement.int64(0)
            let source = statement.text(3) ?? ""
            if entries.last?.token == token {
                entries[entries.count - 1].sources.append(source)
            } else {
                entries.append(PendingRejectsEntry(
                    token: token, path: statement.text(1) ?? "", size: statement.int64(2), sources: [source]))
            }
        }
        return entries
    }

    /// Records `entry`, one row per source; the caller commits it before the load's transaction begins.
    func record(_ entry: PendingRejectsEntry) throws(StoreError) {
        try connection.execute(
            "CREATE TABLE IF NOT EXISTS \(Self.table)(token INTEGER NOT NULL, path TEXT NOT NULL, "
                + "size INTEGER NOT NULL, source TEXT NOT NULL)")
        let insert = try connection.prepare("INSERT INTO \(Self.table)(token, path, size, source) VALUES (?1, ?2, ?3, ?4)")
        for source in entry.sources {
            try insert.bind(1, entry.token)
            try insert.bind(2, entry.path)
            try insert.bind(3, entry.size)
            try insert.bind(4, source)
            _ = try insert.step()
            insert.reset()
        }
    }

    /// Deletes the rows of `token`, and the table once it is empty.
    func forget(token: Int64) throws(StoreError) {
        guard try connection.userTables().contains(Self.table) else { return }
        do {
            let delete = try connection.prepare("DELETE FROM \(Self.table) WHERE token = ?1")
            try delete.bind(1, token)
            _ = try delete.step()
        }
        if try connection.scalarInt("SELECT count(*) FROM \(Self.table)") == 0 {
            try connection.execute("DROP TABLE \(Self.table)")
        }
    }
}
