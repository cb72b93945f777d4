import Foundation
import Testing

@testable import FactPipe

/// The monitor's figures: counters that never fall, loads by status, latencies, history.
struct MonitorFiguresTests {
    private func sample(at time: Double, inserted: Int, records: Int, statuses: [(Int64, String)] = []) -> MonitorSample
    {
        var sample = MonitorSample(time: time)
        sample.totals.inserted = inserted
        sample.totals.records = records
        sample.statuses = statuses
        return sample
    }

    /// A ledger another program wrote huge, negative or non-number totals into: the probe reads it
    /// without a trap (`Int()` of 2^63 crashed it on every probe), holding the totals to 0...Int.max.
    @Test func aProbeOfALedgerWithHugeTotalsDoesNotTrap() throws {
        let work = try LoadWorkspace()
        let input = try work.write("in.txt", "A(1).\nA(2).\n")
        #expect(work.load(input).inserted == 2)
        #expect(work.load(try work.write("more.txt", "A(3).\n")).inserted == 1)
        try work.database().execute("""
            UPDATE factpipe_loads SET records = 9223372036854775807, inserted = 1e300, rejected = -5;
            """)
        let sample = MonitorProbe(databasePath: work.databasePath).sample()
        #expect(sample.failure == nil, "\(sample.failure ?? "")")
        #expect(sample.totals.records == Int.max && sample.totals.inserted == Int.max)
        #expect(sample.totals.rejected == 0)
    }

    /// A database without a log is probed immutable, without locks: a load that ran and checkpointed
    /// between the probe's reads changed the file under it (ledger read before, facts counted after).
    /// Such a probe is taken again, and its figures are all of the database after the load.
    @Test func aProbeDuringWhichALoadChangedTheFileIsTakenAgain() throws {
        let work = try LoadWorkspace()
        #expect(work.load(try work.write("in.txt", "A(1).\nA(2).\n")).inserted == 2)
        #expect(FileSize.bytes(DatabaseFile.walPath(work.databasePath)) == nil, "no log: the probe reads immutable")
        let more = try work.write("more.txt", "B(1).\nB(2).\nB(3).\n")
        let probe = MonitorProbe(databasePath: work.databasePath)
        var probes = 0
        probe.betweenReads = {
            probes += 1
            guard probes == 1 else { return }
            // A writer that starts a moment after the last change of the file (the kernel stamps file
            // times at a coarse tick: a change within the same few milliseconds leaves it as it was).
            usleep(20_000)
            #expect(work.load(more).inserted == 3)
        }
        let sample = probe.sample()
        #expect(probes == 2, "taken again once, the file unchanged during the second")
        #expect(sample.failure == nil, "\(sample.failure ?? "")")
        #expect(sample.totals.inserted == 5 && sample.loadsByStatus["done"] == 2, "\(sample.totals)")
        #expect(sample.facts == 5)
        #expect(sample.databaseBytes == FileSize.bytes(work.databasePath))
    }

    /// A database with a log is probed with locks, in one read transaction for the ledger and the
    /// counts: a load that commits between them is not half in the sample (ledger before, facts after).
    @Test func aProbeOfADatabaseWithALogReadsTheLedgerAndTheCountsInOneSnapshot() throws {
        let work = try LoadWorkspace()
        #expect(work.load(try work.write("in.txt", "A(1).\nA(2).\n")).inserted == 2)
        // Another reader keeps the log there while the probe runs.
        let reader = try work.database()
        #expect(try reader.int("SELECT count(*) FROM facts") == 2)
        #expect(FileSize.bytes(DatabaseFile.walPath(work.databasePath)) != nil, "a log: the probe takes locks")
        let more = try work.write("more.txt", "B(1).\nB(2).\nB(3).\n")
        let probe = MonitorProbe(databasePath: work.databasePath)
        var probes = 0
        probe.betweenReads = {
            probes += 1
            #expect(work.load(more).inserted == 3)
        }
        let sample = probe.sample()
        #expect(probes == 1)
        #expect(sample.failure == nil, "\(sample.failure ?? "")")
        #expect(sample.totals.inserted == 2 && sample.loadsByStatus["done"] == 1, "\(sample.totals)")
        #expect(sample.facts == 2, "the facts counted in the ledger's snapshot")
        // The next probe sees the load whole.
        probe.betweenReads = nil
        let next = probe.sample()
        #expect(next.totals.inserted == 5 && next.loadsByStatus["done"] == 2)
        withExtendedLifetime(reader) {}
    }

    /// A running load's records another program set from -1 to Int.max (or from Int.max to Int.min) between
    /// two probes: the rate is a figure, not a trap (the monitor ended with an arithmetic overflow).
    @Test func aRunningLoadsRecordsJumpingAcrossTheWholeRangeGiveARateNotATrap() {
        var figures = MonitorFigures(interval: 1)
        for (time, records) in [(0.0, -1), (1.0, Int.max), (2.0, Int.min), (3.0, Int.max)] {
            var probe = sample(at: time, inserted: 0, records: records)
            probe.runningLoads = [MonitorSample.Load(id: 7, source: "x", status: "running", startedAt: "", records: records)]
            figures.record(probe, residentBytes: 1)
        }
        #expect(figures.runningRates[7].map { $0 > 0 && $0.isFinite } == true, "\(figures.runningRates)")
    }

    @Test func countersHoldWhenTheLedgerFallsAndRiseWhenItPassesThem() {
        var figures = MonitorFigures(interval: 1)
        figures.record(sample(at: 0, inserted: 100, records: 100), residentBytes: 1)
        figures.record(sample(at: 1, inserted: 900, records: 1_000), residentBytes: 1)
        // A direct append's end takes back the repeated statements it had counted.
        figures.record(sample(at: 2, inserted: 850, records: 1_000), residentBytes: 1)
        #expect(figures.totals.inserted == 900)
        #expect(figures.insertedPerSecond == 0)
        figures.record(sample(at: 3, inserted: 950, records: 1_100), residentBytes: 1)
        #expect(figures.totals.inserted == 950)
        #expect(figures.insertedPerSecond == 50)
        #expect(figures.recordsPerSecond == 100)
    }

    @Test func anUnreadableDatabaseKeepsTheCountersAndCountsTheFailure() {
        var figures = MonitorFigures(interval: 1)
        figures.record(sample(at: 0, inserted: 10, records: 10), residentBytes: 1)
        var failed = MonitorSample(time: 1)
        failed.failure = "kb.sqlite: cannot open database: no such file"
        figures.record(failed, residentBytes: 1)
        #expect(figures.totals.inserted == 10)
        #expect(figures.failedProbes == 1 && figures.probes == 2)
        let metrics = figures.prometheusText(server: .init())
        #expect(metrics.contains("factpipe_up 0\n") && metrics.contains("factpipe_inserted_total 10\n"))
    }

    @Test func loadsAreCountedOncePerStatusTheyWereSeenIn() {
        var figures = MonitorFigures(interval: 1)
        figures.record(sample(at: 0, inserted: 0, records: 0, statuses: [(1, "running")]), residentBytes: 1)
        figures.record(sample(at: 1, inserted: 5, records: 5, statuses: [(1, "done")]), residentBytes: 1)
        figures.record(
            sample(at: 2, inserted: 5, records: 5, statuses: [(1, "undone"), (2, "done")]), residentBytes: 1)
        #expect(figures.loadsSeen.mapValues(\.count) == ["running": 1, "done": 2, "undone": 1])
    }

    @Test func histogramBucketsAreCumulative() {
        var histogram = LatencyHistogram()
        for seconds in [0.000_005, 0.000_2, 0.003, 2.0] { histogram.record(seconds) }
        let counts = Dictionary(uniqueKeysWithValues: zip(LatencyHistogram.bounds, histogram.cumulativeCounts))
        #expect(counts[0.000_01] == 1 && counts[0.000_25] == 2 && counts[0.005] == 3 && counts[1] == 3)
        #expect(histogram.count == 4)
        #expect(abs(histogram.sum - 2.003_205) < 1e-9)
    }

    @Test func historyKeepsTheLastHour() {
        var figures = MonitorFigures(interval: 2)
        #expect(figures.historyCapacity == 1_800)
        for second in 0..<2_000 {
            figures.record(sample(at: Double(second) * 2, inserted: second, records: second), residentBytes: 1)
        }
        #expect(figures.history.count == 1_800)
        #expect(figures.history.first?.time == 400)
    }

    /// Probed every 0.1 s, the history held 3,600 probes: 6 minutes, where the page and `/events` promise
    /// the last hour. It keeps a point a second, and so the hour.
    @Test func historyKeepsTheLastHourAtAnIntervalUnderASecond() throws {
        var figures = MonitorFigures(interval: 0.1)
        for tenth in 0..<40_000 {
            figures.record(sample(at: Double(tenth) / 10, inserted: tenth, records: tenth), residentBytes: 1)
        }
        #expect(figures.historyCapacity == 3_600)
        #expect(figures.history.count == 3_600)
        let span = (figures.history.last?.time ?? 0) - (figures.history.first?.time ?? 0)
        #expect(span >= 3_598 && span <= 3_600, "\(span)")
        // An event carries a point only when its probe added one: the page draws each event's point.
        var withPoint = 0
        for tenth in 40_000..<40_050 {
            figures.record(sample(at: Double(tenth) / 10, inserted: tenth, records: tenth), residentBytes: 1)
            let event = try #require(
                try JSONSerialization.jsonObject(with: Data(figures.eventJSON(server: .init()).utf8)) as? [String: Any])
            if event["point"] != nil { withPoint += 1 }
        }
        #expect(withPoint == 5)
    }

    /// Below a second an interval, a point stands for a second: its rates are what the totals rose by since
    /// the last point. It took its own probe's rate (the last quarter second), so loads committing between
    /// probes drew zeros and a spike four times the true rate.
    @Test func aPointUnderASecondAnIntervalAveragesItsSecond() {
        var figures = MonitorFigures(interval: 0.25)
        // 1,000 records commit between 0.25 and 0.5 s of each second; the probes at whole seconds add points.
        for quarter in 0...16 {
            let seconds = quarter / 4 + (quarter % 4 >= 2 ? 1 : 0)
            figures.record(sample(at: Double(quarter) / 4, inserted: seconds * 1_000, records: seconds * 1_000),
                           residentBytes: 1)
        }
        #expect(figures.history.count == 5)
        #expect(figures.history.dropFirst().map(\.recordsPerSecond) == [1_000, 1_000, 1_000, 1_000])
        #expect(figures.history.dropFirst().map(\.insertedPerSecond) == [1_000, 1_000, 1_000, 1_000])
        // The live rate of each event stays its interval's.
        #expect(figures.recordsPerSecond == 0)
    }

    /// A database made before the unique index keeps the UNIQUE constraint's own index on the statement;
    /// the probe counts predicates through it as through `facts_statement`.
    @Test func probeCountsThePredicatesThroughTheUniqueConstraintsIndex() throws {
        let work = try LoadWorkspace()
        let db = try RawDatabase(work.databasePath, create: true)
        let facts = try #require(FactSchema.createTables.range(of: "statement TEXT NOT NULL,"))
        try db.execute(FactSchema.createTables.replacingCharacters(in: facts, with: "statement TEXT NOT NULL UNIQUE,"))
        for index in FactSchema.secondaryIndexes { try db.execute(index.sql) }
        try db.execute("PRAGMA user_version = \(FactSchema.version)")
        let summary = work.load(try work.write("in.txt", "A(x).\nA(y).\nB(x).\nCd(z).\n"))
        try #require(summary.status == .done)
        try #require(try db.column("SELECT name FROM sqlite_schema WHERE name LIKE 'sqlite_autoindex_facts%'").count == 1)
        let sample = DatabaseMonitor(databasePath: work.databasePath, interval: 1).probe()
        #expect(sample.failure == nil)
        #expect(sample.predicates == 3)
    }

    @Test func probeOfARealDatabaseTimesEveryLookupAndCountsTheFacts() throws {
        let work = try loadedKnowledgeBase()
        let monitor = DatabaseMonitor(databasePath: work.databasePath, interval: 1)
        let sample = monitor.probe()
        #expect(sample.failure == nil)
        let facts = try work.database().int("SELECT count(*) FROM facts")
        #expect(sample.facts == facts)
        #expect(sample.predicates == (try work.database().int("SELECT count(DISTINCT predicate) FROM facts")))
        #expect(Set(sample.lookups.map(\.kind)) == Set(MonitorSample.LookupKind.allCases))
        #expect(sample.recentLoads.first?.status == "done" && sample.runningLoads.isEmpty)
        let figures = monitor.figures
        // The exposition is checked by Prometheus' own parser in the end-to-end tests.
        let text = figures.prometheusText(server: .init(connections: 2))
        #expect(text.contains("# TYPE factpipe_lookup_seconds histogram\n"))
        #expect(text.contains("# TYPE factpipe_inserted_total counter\n"))
        #expect(text.contains("\nfactpipe_facts \(facts)\n"))
        #expect(text.contains("\nfactpipe_monitor_connections 2\n"))
        #expect(text.contains("factpipe_lookup_seconds_bucket{lookup=\"subject\",le=\"+Inf\"}"))
        // Nothing was left behind: the probe opened the idle database immutable and closed it.
        #expect(!FileManager.default.fileExists(atPath: work.databasePath + "-wal"))
        let event = try #require(
            try JSONSerialization.jsonObject(with: Data(figures.eventJSON(server: .init()).utf8)) as? [String: Any])
        #expect(event["facts"] as? Int == facts)
    }

    @Test func probeOfAMissingDatabaseSaysWhy() {
        let monitor = DatabaseMonitor(databasePath: "/nonexistent/kb.sqlite", interval: 1)
        #expect(monitor.healthProblem == "the database has not been probed yet")
        let sample = monitor.probe()
        #expect(sample.failure?.contains("/nonexistent/kb.sqlite") == true)
        #expect(monitor.healthProblem == sample.failure)
    }
}
