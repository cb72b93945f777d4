#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads one `MonitorSample` of a database each time it is asked, without writing to it.
///
/// Every probe opens the database read-only, reads the ledger and the counts in one short read
/// transaction (one snapshot), times its lookups, and closes it again: nothing is held between
/// probes, so a writer's checkpoints are never held back and a database replaced on disk is seen at
/// the next probe. A database without a `-wal` file is opened immutable and gains no side files. An
/// immutable read takes no lock, so a load that starts and checkpoints during it could change pages
/// under it: when the file changed while such a probe ran, the probe is taken again, so that its
/// figures are of one state of the database.
///
/// Point lookups of keys picked at random from `facts` are timed for each index that exists now (a
/// bulk load drops indexes and builds them at its end; the probe never scans for a lookup). Counting
/// `facts` and its predicates reads a whole index, so those are taken only as often as keeps them
/// under `countingShare` of the time.
///
/// Not thread-safe: one thread probes at a time.
final class MonitorProbe {
    let databasePath: String
    /// Point lookups of each kind per probe.
    let lookupsPerKind: Int
    /// The share of wall time the counts may take.
    let countingShare: Double
    private var settings = DatabaseSettings()
    private var nextCount = ContinuousClock.now
    private var generator = SystemRandomNumberGenerator()

    init(databasePath: String, lookupsPerKind: Int = 3, countingShare: Double = 0.02) {
        self.databasePath = databasePath
        self.lookupsPerKind = lookupsPerKind
        self.countingShare = countingShare
        settings.cacheKiB = 2 * 1024
        settings.busyTimeoutMilliseconds = 250
    }

    /// Runs between a probe's reads, for tests: what a writer does there.
    var betweenReads: (() -> Void)?

    /// Reads a sample; a database that cannot be read gives a sample with its `failure`.
    func sample() -> MonitorSample {
        var attempts = 0
        let countDue = nextCount
        while true {
            let before = ProbedFile(databasePath)
            let sample = probe()
            attempts += 1
            if before.hasLog || ProbedFile(databasePath) == before || attempts == Self.attemptsWhileChanging {
                return sample
            }
            nextCount = countDue  // the counts taken, if any, were of a file changing under them
        }
    }

    /// Probes of a database that keeps changing under immutable reads, after which the last one stands.
    static let attemptsWhileChanging = 3

    private func probe() -> MonitorSample {
        let start = ContinuousClock.now
        var sample = MonitorSample(time: Self.epochSeconds())
        let sizes = FileSize.database(databasePath)
        sample.databaseBytes = sizes.file
        sample.walBytes = sizes.wal
        guard FileSize.bytes(databasePath) != nil else {
            sample.failure = "\(databasePath): no such file"
            sample.probeSeconds = Self.seconds(ContinuousClock.now - start)
            return sample
        }
        do {
            let connection = try FactDatabase.openForReading(
                path: databasePath, settings: settings, leavesNoTrace: true)
            // The ledger and the counts are read in one read transaction: one snapshot of a database with
            // a log, so a commit between them cannot show facts the ledger does not have yet. The lookups
            // are timed outside it, each in its own, as a reader's query would run.
            try connection.execute("BEGIN")
            let indexes: Set<String>
            do {
                try readFiles(connection, into: &sample)
                try readLedger(connection, into: &sample)
                betweenReads?()
                indexes = try FactDatabase.existingSecondaryIndexes(connection)
                if ContinuousClock.now >= nextCount { try count(connection, indexes: indexes, into: &sample) }
                try connection.execute("COMMIT")
            } catch {
                connection.rollbackQuietly()
                throw error
            }
            try timeLookups(connection, indexes: indexes, into: &sample)
        } catch {
            sample.failure = "\(error)"
        }
        sample.probeSeconds = Self.seconds(ContinuousClock.now - start)
        return sample
    }

    private func readFiles(_ connection: SQLiteConnection, into sample: inout MonitorSample) throws(StoreError) {
        sample.pageSize = Int(try connection.scalarInt("PRAGMA page_size") ?? 0)
        sample.freePages = Int(try connection.scalarInt("PRAGMA freelist_count") ?? 0)
    }

    private func readLedger(_ connection: SQLiteConnection, into sample: inout MonitorSample) throws(StoreError) {
        let totals = try connection.prepare(
            """
            SELECT status, count(*), total(records), total(inserted), total(updated), total(duplicates),
            total(rejected), total(warnings) FROM factpipe_loads GROUP BY status
            """)
        while try totals.step() {
            sample.loadsByStatus[totals.text(0) ?? "", default: 0] += Int(totals.int64(1))
            sample.totals.records = Self.adding(sample.totals.records, totals.double(2))
            sample.totals.inserted = Self.adding(sample.totals.inserted, totals.double(3))
            sample.totals.updated = Self.adding(sample.totals.updated, totals.double(4))
            sample.totals.duplicates = Self.adding(sample.totals.duplicates, totals.double(5))
            sample.totals.rejected = Self.adding(sample.totals.rejected, totals.double(6))
            sample.totals.warnings = Self.adding(sample.totals.warnings, totals.double(7))
        }
        let statuses = try connection.prepare("SELECT id, status FROM factpipe_loads ORDER BY id")
        while try statuses.step() {
            sample.statuses.append((statuses.int64(0), statuses.text(1) ?? ""))
        }
        sample.recentLoads = try loads(connection, where: "1", limit: 10)
        sample.runningLoads = try loads(connection, where: "status = 'running'", limit: 10)
    }

    private func loads(_ connection: SQLiteConnection, where condition: String, limit: Int) throws(StoreError)
        -> [MonitorSample.Load]
    {
        let statement = try connection.prepare(
            """
            SELECT id, source, status, started_at, finished_at, records, inserted, updated, duplicates, rejected,
            checkpoint_offset, source_size, (julianday(finished_at) - julianday(started_at)) * 86400.0
            FROM factpipe_loads WHERE \(condition) ORDER BY id DESC LIMIT \(limit)
            """)
        var loads: [MonitorSample.Load] = []
        while try statement.step() {
            var load = MonitorSample.Load(
                id: statement.int64(0), source: statement.text(1) ?? "", status: statement.text(2) ?? "",
                startedAt: statement.text(3) ?? "", finishedAt: statement.text(4))
            load.records = Int(statement.int64(5))
            load.inserted = Int(statement.int64(6))
            load.updated = Int(statement.int64(7))
            load.duplicates = Int(statement.int64(8))
            load.rejected = Int(statement.int64(9))
            load.bytesRead = statement.int64(10)
            load.sourceBytes = statement.isNull(11) ? nil : statement.int64(11)
            load.seconds = statement.isNull(12) ? nil : max(0, statement.double(12))
            loads.append(load)
        }
        return loads
    }

    /// Times `lookupsPerKind` lookups of each kind whose index exists, of keys read at random rowids.
    private func timeLookups(_ connection: SQLiteConnection, indexes: Set<String>, into sample: inout MonitorSample)
        throws(StoreError)
    {
        // A version-2 database, read as it is, has an index of its own for each of the last two.
        let subjectIndexes = FactSchema.secondaryIndexes.map(\.name)
        let kinds: [(MonitorSample.LookupKind, indexes: [String], sql: String)] = [
            (.statement, [FactSchema.uniqueIndex.name], "SELECT id FROM facts WHERE statement = ?1"),
            (
                .predicateSubject, subjectIndexes + ["facts_predicate_subject"],
                "SELECT id FROM facts WHERE predicate = ?1 AND subject = ?2 LIMIT 100"
            ),
            (.subject, subjectIndexes + ["facts_subject"], "SELECT id FROM facts WHERE subject = ?1 LIMIT 100"),
        ].filter { !indexes.isDisjoint(with: $0.indexes) }
        guard !kinds.isEmpty,
            let low = try connection.scalarInt("SELECT min(id) FROM facts"),
            let high = try connection.scalarInt("SELECT max(id) FROM facts"), low <= high
        else { return }
        let key = try connection.prepare(
            "SELECT statement, predicate, subject FROM facts WHERE id >= ?1 ORDER BY id LIMIT 1")
        let lookups = try kinds.map { kind throws(StoreError) in (kind.0, try connection.prepare(kind.sql)) }
        for _ in 0..<lookupsPerKind {
            try key.bind(1, Int64.random(in: low...high, using: &generator))
            guard try key.step() else {
                key.reset()
                continue
            }
            let (statement, predicate, subject) = (key.text(0), key.text(1), key.text(2))
            key.reset()
            for (kind, lookup) in lookups {
                switch kind {
                case .statement: try lookup.bind(1, statement)
                case .predicateSubject:
                    try lookup.bind(1, predicate)
                    try lookup.bind(2, subject)
                case .subject: try lookup.bind(1, subject)
                }
                let start = ContinuousClock.now
                while try lookup.step() {}
                sample.lookups.append((kind, Self.seconds(ContinuousClock.now - start)))
                lookup.reset()
            }
        }
    }

    /// Counts facts and distinct predicates, then waits long enough to keep counting under its share.
    private func count(_ connection: SQLiteConnection, indexes: Set<String>, into sample: inout MonitorSample)
        throws(StoreError)
    {
        let start = ContinuousClock.now
        sample.facts = Int(try connection.scalarInt("SELECT count(*) FROM facts") ?? 0)
        // The unique index on the statement: factpipe's, or the constraint's of a database made before it.
        if indexes.contains(where: { $0 == FactSchema.uniqueIndex.name || $0.hasPrefix("sqlite_autoindex_facts_") }) {
            sample.predicates = Int(try connection.scalarInt(Self.countPredicates) ?? 0)
        }
        let elapsed = ContinuousClock.now - start
        nextCount = ContinuousClock.now + elapsed * (1 / countingShare)
    }

    /// Counts the predicates of the facts with one seek of the unique index per predicate
    /// (`FactSchema.predicateNames`).
    static let countPredicates = "SELECT count(*) FROM (\(FactSchema.predicateNames))"

    /// `count` plus `total`, a ledger column's `total()` (a float), held between 0 and `Int.max`: a ledger
    /// another program wrote 2^63 (or 1e300, or NaN) into made `Int()` trap on every probe.
    static func adding(_ count: Int, _ total: Double) -> Int {
        guard total.isFinite, total > 0 else { return count }
        guard total < 9.2e18 else { return Int.max }
        let (sum, overflow) = count.addingReportingOverflow(Int(total))
        return overflow ? Int.max : sum
    }

    static func seconds(_ duration: Duration) -> Double {
        duration.inSeconds
    }

    static func epochSeconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}

/// What an immutable probe must find unchanged after it: the database file's identity, size and
/// modification time, and whether it has a log.
private struct ProbedFile: Equatable {
    var exists = false
    var device: UInt64 = 0
    var inode: UInt64 = 0
    var size: Int64 = 0
    var modifiedSeconds = 0
    var modifiedNanoseconds = 0
    var hasLog = false

    init(_ path: String) {
        var info = stat()
        hasLog = stat(DatabaseFile.walPath(path), &info) == 0
        guard stat(path, &info) == 0 else { return }
        exists = true
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        #if canImport(Darwin)
            modifiedSeconds = Int(info.st_mtimespec.tv_sec)
            modifiedNanoseconds = Int(info.st_mtimespec.tv_nsec)
        #else
            modifiedSeconds = Int(info.st_mtim.tv_sec)
            modifiedNanoseconds = Int(info.st_mtim.tv_nsec)
        #endif
    }
}
