/// Brings a database of schema version 2 to version 3: its indexes on `subject` and on
/// `(predicate, subject)` replaced by one on `(subject, predicate)` (`FactSchema.secondaryIndexes`).
///
/// It runs when a writer opens a version-2 database (`FactDatabase.openForWriting`), in one
/// transaction, so the file has either the old indexes at version 2 or the new one at version 3. The
/// index is built from the table by one sort (about a second a million facts). Facts, ledger and staged
/// rows are not touched. Only the indexes of those names go: an index a user added under another name
/// stays. Readers read a version-2 database, and its indexes, as it is.
enum SubjectIndexMigration {
    /// The schema version whose indexes this migration replaces.
    static let fromVersion = CanonicalFormMigration.toVersion

    /// Migrates the database when its `user_version` is 2; returns whether it did.
    /// - Throws: `StoreError` when SQLite fails; the transaction is rolled back and the file stays at
    ///   version 2.
    @discardableResult
    static func migrateIfNeeded(_ connection: SQLiteConnection) throws(StoreError) -> Bool {
        guard try connection.scalarInt("PRAGMA user_version") == fromVersion else { return false }
        try connection.execute("BEGIN IMMEDIATE")
        do {
            // Another writer may have migrated it between the look and the lock.
            guard try connection.scalarInt("PRAGMA user_version") == fromVersion else {
                try connection.execute("COMMIT")
                return false
            }
            for name in FactSchema.version2SecondaryIndexes {
                try connection.execute("DROP INDEX IF EXISTS \(name)")
            }
            for index in FactSchema.secondaryIndexes { try connection.execute(index.sql) }
            try connection.execute("PRAGMA user_version=\(FactSchema.version)")
            try connection.execute("COMMIT")
            return true
        } catch {
            connection.rollbackQuietly()
            throw error
        }
    }
}
