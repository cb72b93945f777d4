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
        try FactSchema.migrate(connection, from: fromVersion, to: FactSchema.version) { () throws(StoreError) -> Void in
            for name in FactSchema.version2SecondaryIndexes {
                try connection.execute("DROP INDEX IF EXISTS \(name)")
            }
            for index in FactSchema.secondaryIndexes { try connection.execute(index.sql) }
        } != nil
    }
}
