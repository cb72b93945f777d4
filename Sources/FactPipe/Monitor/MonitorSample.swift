/// What one probe of a database read: its files, its ledger, and the lookups it timed.
///
/// Figures that could not be read are nil (`facts` between two counts, `predicates` while the
/// index that makes them cheap is being rebuilt); a probe that could not read the database at all
/// carries only `failure`, the files' sizes and its time.
public struct MonitorSample: Sendable {
    /// The kinds of point lookup the probe times, each served by one index of `facts`.
    public enum LookupKind: String, Sendable, CaseIterable {
        /// `WHERE statement = ?` (the unique index `facts_statement`).
        case statement
        /// `WHERE predicate = ? AND subject = ?` (`facts_subject_predicate`; `facts_predicate_subject` in version 2).
        case predicateSubject = "predicate_subject"
        /// `WHERE subject = ?` (`facts_subject_predicate`; `facts_subject` in version 2).
        case subject
    }

    /// Sums of the ledger's counts over all loads.
    public struct LedgerTotals: Sendable, Equatable {
        public var records = 0, inserted = 0, updated = 0, duplicates = 0, rejected = 0, warnings = 0
    }

    /// One ledger row as the monitor shows it.
    public struct Load: Sendable, Equatable {
        public var id: Int64
        public var source: String
        public var status: String
        public var startedAt: String
        public var finishedAt: String?
        public var records = 0, inserted = 0, updated = 0, duplicates = 0, rejected = 0
        /// Bytes of the input read up to the last committed batch (the checkpoint offset).
        public var bytesRead: Int64 = 0
        /// Size of the input when the load started; nil for a pipe.
        public var sourceBytes: Int64?
        /// Seconds from start to finish (nil while running).
        public var seconds: Double?
    }

    /// Seconds since 1970 when the probe started.
    public var time: Double
    /// Why the database could not be read; nil when it could.
    public var failure: String?
    /// How long the probe took, in seconds.
    public var probeSeconds = 0.0
    public var databaseBytes: Int64 = 0
    public var walBytes: Int64 = 0
    public var pageSize = 0
    public var freePages = 0
    /// Rows of `facts`, when counted by this probe.
    public var facts: Int?
    /// Distinct predicates, when counted by this probe.
    public var predicates: Int?
    public var totals = LedgerTotals()
    /// Ledger rows per status.
    public var loadsByStatus: [String: Int] = [:]
    /// The id and status of every ledger row.
    public var statuses: [(id: Int64, status: String)] = []
    /// The most recent loads, newest first.
    public var recentLoads: [Load] = []
    /// Loads whose ledger row says `running`, newest first.
    public var runningLoads: [Load] = []
    /// Each timed lookup: its kind and how long it took, in seconds.
    public var lookups: [(kind: LookupKind, seconds: Double)] = []

    /// Creates an empty sample taken at `time`.
    public init(time: Double) {
        self.time = time
    }

    /// True when the database could be read.
    public var isHealthy: Bool { failure == nil }
}
