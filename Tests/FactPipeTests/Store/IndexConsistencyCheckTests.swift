import Foundation
import Testing

@testable import FactPipe

/// The index check that stands in for `PRAGMA integrity_check`'s index lookups finds what they find,
/// on real database files damaged the way SQLite itself can be made to damage them: an index whose
/// declared columns or condition are changed behind SQLite's back while rows change.
@Suite struct IndexConsistencyCheckTests {
    /// A table of `rows` rows (ids `id(i)`) with a UNIQUE index and a plain one, rows not in index order.
    private func database(
        _ work: LoadWorkspace, rows: Int = 5_000, id: String = "i", name: String = "t.sqlite"
    ) throws -> String {
        let path = work.path(name)
        let database = try RawDatabase(path, create: true)
        try database.execute(
            """
            PRAGMA page_size=4096;
            CREATE TABLE facts(id INTEGER PRIMARY KEY, statement TEXT NOT NULL, subject TEXT, score REAL, note TEXT);
            CREATE UNIQUE INDEX facts_statement ON facts(statement);
            CREATE INDEX facts_subject_score ON facts(subject, score DESC);
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(rows))
            INSERT INTO facts SELECT \(id), 'S(' || (i * 7919 % \(rows)) || ')', 'subject' || (i % 97),
                CASE i % 3 WHEN 0 THEN i WHEN 1 THEN i + 0.5 ELSE NULL END, 'n' FROM n;
            """)
        return path
    }

    /// Runs `sql` with the definition of index `index` replaced by `definition` (no rows of the index
    /// change with it), then puts the definition back: the index no longer matches the table.
    private func alter(_ path: String, index: String, definition: String, _ sql: String) throws {
        let original = try #require(try RawDatabase(path).rows("SELECT sql FROM sqlite_schema WHERE name = '\(index)'").first?.first ?? nil)
        func setDefinition(_ text: String) throws {
            let database = try RawDatabase(path)
            try database.execute(
                "PRAGMA writable_schema=ON; UPDATE sqlite_schema SET sql = '\(text.replacingOccurrences(of: "'", with: "''"))' "
                    + "WHERE name = '\(index)'; PRAGMA writable_schema=OFF;")
        }
        try setDefinition(definition)
        try RawDatabase(path).execute(sql)
        try setDefinition(original)
    }

    private func problems(_ path: String, windowBytes: Int = IndexConsistencyCheck.defaultWindowBytes) throws -> [String] {
        let connection = try SQLiteConnection(
            path: path, readOnly: true, create: false, uri: DatabaseCheck.uri(path))
        return try IndexConsistencyCheck.problems(connection, windowBytes: windowBytes)
    }

    private func sqliteFindings(_ path: String) throws -> [String] {
        try RawDatabase(path).rows("PRAGMA integrity_check").compactMap { $0.first ?? nil }.filter { $0 != "ok" }
    }

    @Test(arguments: [IndexConsistencyCheck.defaultWindowBytes, 16 << 10, 1])
    func aSoundDatabasePassesInOnePassOrInMany(windowBytes: Int) throws {
        let work = try LoadWorkspace()
        let path = try database(work)
        #expect(try sqliteFindings(path).isEmpty)
        #expect(try problems(path, windowBytes: windowBytes).isEmpty)
    }

    @Test func sparseNegativeAndHugeRowidsPass() throws {
        let work = try LoadWorkspace()
        let path = try database(
            work, rows: 3_000, id: "CASE i % 3 WHEN 0 THEN -i * 1000003 WHEN 1 THEN i * 3037000499 ELSE i END")
        try RawDatabase(path).execute("INSERT INTO facts VALUES (9223372036854775807, 'last', 'x', 1, 'n')")
        #expect(try sqliteFindings(path).isEmpty)
        #expect(try problems(path).isEmpty)
    }

    /// Rowids a thousand apart: each partition spans far more rowids than it has entries.
    @Test func rowidsAThousandApartPass() throws {
        let work = try LoadWorkspace()
        let path = try database(work, rows: 20_000, id: "i * 1000")
        #expect(try sqliteFindings(path).isEmpty)
        #expect(try problems(path).isEmpty)
    }

    @Test(arguments: [IndexConsistencyCheck.defaultWindowBytes, 8 << 10])
    func aRowWhoseIndexEntryHoldsOldValuesIsFound(windowBytes: Int) throws {
        let work = try LoadWorkspace()
        let path = try database(work)
        try alter(
            path, index: "facts_subject_score", definition: "CREATE INDEX facts_subject_score ON facts(note)",
            "UPDATE facts SET subject = 'moved' WHERE id IN (77, 4999)")
        #expect(try sqliteFindings(path).contains("row 77 missing from index facts_subject_score"))
        let found = try problems(path, windowBytes: windowBytes)
        #expect(found.contains("row 77 missing from index facts_subject_score (its entry holds other values)"))
        #expect(found.contains("row 4999 missing from index facts_subject_score (its entry holds other values)"))
    }

    @Test func aRowWithoutAnEntryAndAnEntryWithoutARowAreFound() throws {
        let work = try LoadWorkspace()
        let path = try database(work)
        try alter(
            path, index: "facts_statement",
            definition: "CREATE UNIQUE INDEX facts_statement ON facts(statement) WHERE id < 0",
            "INSERT INTO facts VALUES (6000, 'new', 'x', 1, 'n'); DELETE FROM facts WHERE id = 10;")
        #expect(!(try sqliteFindings(path).isEmpty))
        let found = try problems(path)
        #expect(found.contains("row 6000 missing from index facts_statement"))
        #expect(found.contains("index facts_statement has an entry for row 10, which facts lacks"))
    }

    @Test func anEntryPastTheLastRowAndAnIndexOfAnEmptyTableAreFound() throws {
        let work = try LoadWorkspace()
        let path = try database(work, rows: 50)
        try alter(
            path, index: "facts_subject_score",
            definition: "CREATE INDEX facts_subject_score ON facts(subject, score DESC) WHERE id < 0",
            "DELETE FROM facts WHERE id = 50")
        #expect(try problems(path) == ["index facts_subject_score has an entry for row 50, which facts lacks"])
        try alter(
            path, index: "facts_statement",
            definition: "CREATE UNIQUE INDEX facts_statement ON facts(statement) WHERE id < 0",
            "DELETE FROM facts WHERE id > 0")
        #expect(!(try sqliteFindings(path).isEmpty))
        #expect(try problems(path).contains("index facts_statement has an entry for row 1, which facts lacks"))
    }

    @Test func aKeyTwiceInAUniqueIndexIsFound() throws {
        let work = try LoadWorkspace()
        let path = try database(work)
        try alter(
            path, index: "facts_statement", definition: "CREATE INDEX facts_statement ON facts(statement)",
            "INSERT INTO facts VALUES (7000, 'S(1)', 'x', 1, 'n')")
        #expect(try sqliteFindings(path).contains { $0.hasPrefix("non-unique entry in index facts_statement") })
        #expect(try problems(path).contains { $0.hasPrefix("non-unique entry in index facts_statement") })
    }

    @Test func anIndexOutOfOrderIsFound() throws {
        let work = try LoadWorkspace()
        let path = try database(work, rows: 10)
        // Built in NOCASE order ('a' before 'B'), then declared BINARY, where 'B' comes first.
        try alter(
            path, index: "facts_subject_score",
            definition: "CREATE INDEX facts_subject_score ON facts(subject COLLATE NOCASE, score DESC)",
            "UPDATE facts SET subject = 'a' WHERE id = 1; UPDATE facts SET subject = 'B' WHERE id = 2;")
        #expect(!(try sqliteFindings(path).isEmpty))
        #expect(try problems(path).contains { $0.hasPrefix("index facts_subject_score is out of order") })
    }

    @Test func tablesTheScansDoNotCoverGetIntegrityCheck() throws {
        let work = try LoadWorkspace()
        let path = try database(work, rows: 100)
        try RawDatabase(path).execute(
            """
            CREATE TABLE pairs(a TEXT PRIMARY KEY, b TEXT) WITHOUT ROWID;
            CREATE INDEX pairs_b ON pairs(b);
            CREATE INDEX facts_lower ON facts(lower(subject));
            INSERT INTO pairs SELECT statement, subject FROM facts;
            """)
        #expect(try problems(path).isEmpty)
        try alter(
            path, index: "facts_lower", definition: "CREATE INDEX facts_lower ON facts(note)",
            "UPDATE facts SET subject = 'Moved' WHERE id = 3")
        #expect(try problems(path) == (try sqliteFindings(path)))
        #expect(!(try problems(path).isEmpty))
    }

    /// Whether the hashed sums of `path`'s `facts` agree with its indexes (without the matching).
    private func sumsAgree(_ path: String) throws -> Bool {
        let connection = try SQLiteConnection(
            path: path, readOnly: true, create: false, uri: DatabaseCheck.uri(path))
        let layout = try #require(try TableLayout.all(connection).first { $0.name == "facts" }?.layout)
        let bounds = try RawDatabase(path).rows("SELECT min(id), max(id) FROM facts")[0]
        let low = try #require(bounds[0].flatMap { Int64($0) })
        let high = try #require(bounds[1].flatMap { Int64($0) })
        let range = low...high
        return try TableScan(connection, layout, windowBytes: IndexConsistencyCheck.defaultWindowBytes)
            .sumsAgree(rowRange: range)
    }

    /// A sound table is proven by the sums alone; each kind of damage the matching names makes them
    /// disagree, so the matching runs and names it (the tests above).
    @Test func theSumsAgreeOnASoundTableAndOnNoDamagedOne() throws {
        let work = try LoadWorkspace()
        #expect(try sumsAgree(try database(work, name: "sound.sqlite")))
        #expect(try sumsAgree(try database(work, rows: 3_000, id: "i * 3037000499", name: "sparse.sqlite")))

        let changed = try database(work, name: "changed.sqlite")
        try alter(
            changed, index: "facts_subject_score", definition: "CREATE INDEX facts_subject_score ON facts(note)",
            "UPDATE facts SET score = 1.25 WHERE id = 300")
        #expect(try !sumsAgree(changed))

        let lost = try database(work, name: "lost.sqlite")
        try alter(
            lost, index: "facts_statement", definition: "CREATE UNIQUE INDEX facts_statement ON facts(statement) WHERE id < 0",
            "DELETE FROM facts WHERE id = 10")
        #expect(try !sumsAgree(lost))

        let unindexed = try database(work, name: "unindexed.sqlite")
        try alter(
            unindexed, index: "facts_statement",
            definition: "CREATE UNIQUE INDEX facts_statement ON facts(statement) WHERE id < 0",
            "INSERT INTO facts VALUES (2500000, 'new', 'x', 1, 'n'); DELETE FROM facts WHERE id = 4999")
        #expect(try !sumsAgree(unindexed))
    }

    /// The sum of the entries' hashes is the same in any order and changes with any byte, the rowid
    /// or the seed.
    @Test func entryHashesSumTheSameInAnyOrderAndDifferForAnyChange() {
        let keys: [[UInt8]] = (0..<200).map { n in Array("S(\(n * 7919 % 200), \(String(repeating: "x", count: n % 23)))".utf8) }
        func sum(_ entries: [(key: [UInt8], rowid: Int64)], seed: UInt64 = 42) -> UInt64 {
            entries.reduce(0) { total, entry in
                total &+ entry.key.withUnsafeBytes { EntrySum.hash($0, rowid: entry.rowid, seed: seed) }
            }
        }
        let entries = keys.enumerated().map { (key: $0.element, rowid: Int64($0.offset)) }
        #expect(sum(entries) == sum(entries.reversed()))
        #expect(sum(entries) == sum(entries.sorted { $0.key.lexicographicallyPrecedes($1.key) }))
        #expect(sum(entries) != sum(entries, seed: 43))
        for position in [0, 7, 8, 15, 16, 21] {
            var changed = entries
            changed[199].key[position] ^= 1
            #expect(sum(changed) != sum(entries), "byte \(position)")
        }
        var moved = entries
        moved[3].rowid = 4
        #expect(sum(moved) != sum(entries))
        var longer = entries
        longer[5].key.append(0)
        #expect(sum(longer) != sum(entries))
        // Two entries' rowids swapped and their first key words changed by what XORing the rowids into the
        // seed would cancel: a crafted damage that must not agree.
        var swapped = entries
        let constant: UInt64 = 0xC4CE_B9FE_1A85_EC53
        let delta = (UInt64(swapped[10].rowid) &* constant) ^ (UInt64(swapped[11].rowid) &* constant)
        for entry in [10, 11] {
            var word = swapped[entry].key.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } ^ delta
            withUnsafeBytes(of: &word) { swapped[entry].key.replaceSubrange(0..<8, with: $0) }
        }
        (swapped[10].rowid, swapped[11].rowid) = (swapped[11].rowid, swapped[10].rowid)
        #expect(sum(swapped) != sum(entries))
    }

    @Test func aBackupOfADatabaseWithADamagedIndexIsRefused() throws {
        let work = try loadedWorkspace()
        try alter(
            work.databasePath, index: "facts_subject_predicate",
            definition: "CREATE INDEX facts_subject_predicate ON facts(context)",
            "UPDATE facts SET subject = 'moved' WHERE id = 2")
        try FileManager.default.createDirectory(atPath: work.path("backups"), withIntermediateDirectories: true)
        let options = BackupOptions(databasePath: work.databasePath, directory: work.path("backups"))
        #expect {
            try DatabaseBackup(options: options).run()
        } throws: { error in
            guard let error = error as? SnapshotError else { return false }
            return error.kind == .databaseDamaged && error.message.contains("row 2 missing from index facts_subject_predicate")
        }
        #expect(try folderContents(work.path("backups")).isEmpty)
    }
}

/// Index entries put in rowid order for matching against the table: by counting within a partition,
/// by sorting otherwise; entries of one rowid (a damaged index) stay in the index's order either way.
@Suite struct RowidOrderTests {
    @Test(arguments: [UInt64(4_096), RowidOrder.countingWidth, RowidOrder.countingWidth + 1])
    func entriesComeOutInRowidOrderWithRepeatsInTheirOrder(width: UInt64) {
        let start: Int64 = -2_000
        var entries: [(rowid: Int64, key: Int)] = []
        for n in 0..<3_000 { entries.append((start + Int64((n * 2_731) % 4_096), n)) }
        entries.append((start + 17, 10_000))
        entries.append((start, 10_001))
        entries.append((start + 4_095, 10_002))
        let expected = entries.sorted { $0.rowid < $1.rowid }
        let ordered = RowidOrder.sorted(entries, from: start, width: width)
        #expect(ordered.map(\.rowid) == expected.map(\.rowid))
        #expect(ordered.map(\.key) == expected.map(\.key))
        let repeats = ordered.filter { $0.rowid == start + 17 }.map(\.key)
        #expect(repeats.count == 2 && repeats.last == 10_000, "\(repeats)")
    }

    @Test func rowidsOutsideThePartitionAreSorted() {
        let entries: [(rowid: Int64, key: Int)] = [(5, 0), (Int64.max, 1), (Int64.min, 2), (5, 3), (0, 4)]
        let ordered = RowidOrder.sorted(entries, from: 0, width: 4_096)
        #expect(ordered.map(\.rowid) == [Int64.min, 0, 5, 5, Int64.max])
        #expect(ordered.map(\.key) == [2, 4, 0, 3, 1])
        #expect(RowidOrder.sorted([(rowid: Int64, key: Int)](), from: 0, width: 16).isEmpty)
    }
}

/// Sparse rowids (a few entries spread over a wide span) are sorted, not counted: counting would
/// allocate a counter for each rowid of the span.
@Suite struct SparseRowidTests {
    @Test func sparseEntriesAreSortedAndDenseOnesCounted() {
        #expect(RowidOrder.counts(entries: 60, width: 60_000) == false)
        #expect(RowidOrder.counts(entries: 60_000, width: 65_536))
        let entries = (0..<60).reversed().map { (rowid: Int64($0) * 1_000, key: $0) }
        #expect(RowidOrder.sorted(entries, from: 0, width: 60_000).map(\.rowid) == entries.map(\.rowid).sorted())
    }
}
