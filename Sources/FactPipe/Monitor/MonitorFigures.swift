/// What the monitor knows after its probes: counters that only rise, the latest figures, rates,
/// lookup latencies, and the last hour of points for the page.
///
/// The ledger's sums can fall (a load that appended straight into `facts` takes back the repeated
/// statements it counted once its end finds them; a database restored from a backup has fewer
/// loads), but a Prometheus counter may only fall when its process restarts. Each counter is
/// therefore the highest sum seen so far: it holds while the ledger is below it and rises again
/// once the ledger passes it. Loads by status count the ids seen with that status.
public struct MonitorFigures: Sendable {
    /// One point of the page's charts.
    public struct Point: Sendable, Equatable {
        public var time: Double
        public var insertedPerSecond: Double
        public var recordsPerSecond: Double
        public var lookupP50: Double?
        public var lookupP95: Double?
        public var residentBytes: Int
        public var databaseBytes: Int64
        public var walBytes: Int64
    }

    /// Seconds between probes.
    public let interval: Double
    /// How many points the history keeps: an hour's worth, at most 3,600.
    public let historyCapacity: Int
    /// The most recent sample, nil before the first probe.
    public private(set) var latest: MonitorSample?
    /// The figures of the last sample that could read the database.
    public private(set) var lastReadable: MonitorSample?
    /// Facts and distinct predicates as last counted.
    public private(set) var facts: Int?
    public private(set) var predicates: Int?
    /// Counters over all loads (see the type's comment).
    public private(set) var totals = MonitorSample.LedgerTotals()
    /// Load ids seen in each status.
    public private(set) var loadsSeen: [String: Set<Int64>] = [:]
    /// Lookup latencies since the monitor started, by kind.
    public private(set) var histograms: [MonitorSample.LookupKind: LatencyHistogram] = [:]
    public private(set) var probes = 0
    public private(set) var failedProbes = 0
    /// Records and inserted facts per second over the last interval (all loads together).
    public private(set) var recordsPerSecond = 0.0
    public private(set) var insertedPerSecond = 0.0
    /// Records per second of each running load over the last interval, by load id.
    public private(set) var runningRates: [Int64: Double] = [:]
    /// The monitor's resident memory at the last probe, in bytes.
    public private(set) var residentBytes = 0
    /// The last hour of points, oldest first.
    public private(set) var history: [Point] = []
    /// Whether the latest probe added the last point of `history` (below a second an interval, most do not).
    public private(set) var latestIsInHistory = false
    private var window = LatencyWindow(capacity: 240)
    private var runningRecords: [Int64: Int] = [:]
    /// The time and totals of the last point a readable probe added: below a second an interval, a point's
    /// rates are over the second since, not over its own probe's fraction of one.
    private var pointMark: (time: Double, records: Int, inserted: Int)?

    /// Creates empty figures for probes every `interval` seconds.
    public init(interval: Double) {
        self.interval = interval
        historyCapacity = max(1, Int((3_600 / max(1, interval)).rounded(.up)))
    }

    /// The lookup latency quantile `q` over the most recent lookups, in seconds.
    public func lookupQuantile(_ q: Double) -> Double? { window.quantile(q) }

    /// Takes in one probe's sample and the monitor's resident memory at that time.
    public mutating func record(_ sample: MonitorSample, residentBytes: Int) {
        let elapsed = latest.map { sample.time - $0.time } ?? 0
        latest = sample
        probes += 1
        self.residentBytes = residentBytes
        if sample.isHealthy {
            let before = totals
            totals.records = max(totals.records, sample.totals.records)
            totals.inserted = max(totals.inserted, sample.totals.inserted)
            totals.updated = max(totals.updated, sample.totals.updated)
            totals.duplicates = max(totals.duplicates, sample.totals.duplicates)
            totals.rejected = max(totals.rejected, sample.totals.rejected)
            totals.warnings = max(totals.warnings, sample.totals.warnings)
            for (id, status) in sample.statuses { loadsSeen[status, default: []].insert(id) }
            for entry in sample.lookups {
                histograms[entry.kind, default: LatencyHistogram()].record(entry.seconds)
                window.record(entry.seconds)
            }
            if let counted = sample.facts { facts = counted }
            if let counted = sample.predicates { predicates = counted }
            let hadReading = lastReadable != nil
            lastReadable = sample
            if hadReading, elapsed > 0 {
                // In Double: counts another program wrote to the ledger may be anything, and an Int difference
                // of two of them can overflow (the monitor ended with a runtime trap).
                recordsPerSecond = (Double(totals.records) - Double(before.records)) / elapsed
                insertedPerSecond = (Double(totals.inserted) - Double(before.inserted)) / elapsed
            }
            var rates: [Int64: Double] = [:]
            var records: [Int64: Int] = [:]
            for load in sample.runningLoads {
                records[load.id] = load.records
                if let earlier = runningRecords[load.id], elapsed > 0 {
                    rates[load.id] = max(0, Double(load.records) - Double(earlier)) / elapsed
                }
            }
            runningRates = rates
            runningRecords = records
        } else {
            failedProbes += 1
            recordsPerSecond = 0
            insertedPerSecond = 0
            runningRates = [:]
        }
        // Probed more often than each second, the history keeps one point a second (the first of each): an
        // hour in its 3,600 points, not 3,600 probes (6 minutes at `--interval 0.1`).
        if let last = history.last, interval < 1, sample.time - last.time < 1 - interval / 2 {
            latestIsInHistory = false
            return
        }
        latestIsInHistory = true
        // One probe's rate stood for its whole second: loads that commit less often than the probes came out as
        // zeros and a spike many times the true rate (58,509/s once, and 0 in the ten seconds around it, for
        // about 8,400/s). The point takes what the totals rose by since the last point.
        var pointRates = (inserted: insertedPerSecond, records: recordsPerSecond)
        if interval < 1, sample.isHealthy, let mark = pointMark, sample.time > mark.time {
            let span = sample.time - mark.time
            pointRates = ((Double(totals.inserted) - Double(mark.inserted)) / span,
                          (Double(totals.records) - Double(mark.records)) / span)
        }
        pointMark = sample.isHealthy ? (sample.time, totals.records, totals.inserted) : nil
        history.append(
            Point(
                time: sample.time, insertedPerSecond: pointRates.inserted, recordsPerSecond: pointRates.records,
                lookupP50: window.quantile(0.5), lookupP95: window.quantile(0.95), residentBytes: residentBytes,
                databaseBytes: sample.databaseBytes, walBytes: sample.walBytes))
        if history.count > historyCapacity { history.removeFirst(history.count - historyCapacity) }
    }
}
