/// What a load did: its final status, its counts and how fast it went.
///
/// Counts are those of committed work, so `records == inserted + updated + duplicates + rejected +
/// staged` holds whatever the status; `staged` is 0 unless the final merge failed (a full disk), in
/// which case those committed records wait in the staging table for the next load to merge them.
public struct ImportSummary: Sendable {
    public enum Status: String, Sendable {
        /// Every input was read to its end and committed.
        case done
        /// Stopped on purpose: the error budget ran out, or a conflict under `fail`.
        case aborted
        /// Stopped by SIGINT or SIGTERM: the open batch was rolled back, the committed ones kept, and
        /// `--resume` goes on from the last (the ledger says `interrupted` too).
        case interrupted
        /// Stopped by an error: unreadable input, a database failure.
        case failed
    }

    /// One source's part of the load, as recorded in the ledger.
    public struct Source: Sendable {
        public var path: String
        public var loadID: Int64
        public var format: InputFormat
        public var compression: InputCompression
        public var records = 0, inserted = 0, updated = 0, duplicates = 0, rejected = 0, warnings = 0
        public var status: LoadStatus
    }

    public var status: Status = .done
    public var records = 0
    public var inserted = 0
    public var updated = 0
    public var duplicates = 0
    public var rejected = 0
    /// Records the resumed loads refused before this run (not in `rejected`, which counts this run's).
    public var rejectedBeforeResume = 0
    /// Facts this run inserted and then deleted again: its input turned out damaged and its load was undone
    /// (`undoDamagedInput`). They are counted in `inserted` too, which says what the load did; this says what
    /// the undo took back, so that a count of facts added is `inserted - deletedByUndo`.
    public var deletedByUndo = 0
    public var warnings = 0
    /// Committed records whose merge into `facts` is still to come (0 unless a merge failed).
    public var staged = 0
    public var seconds = 0.0
    /// The process's peak resident memory when the load ended (since the process started, not the load).
    public var peakRSSBytes = 0
    /// Input bytes read, as they are on disk or in the pipe: compressed bytes for a compressed input.
    public var bytesRead: Int64 = 0
    public var sources: [Source] = []
    /// Inputs not read because the ledger has their content as loaded (same SHA-256), with why.
    public var skipped: [(path: String, reason: String)] = []
    /// Inputs the load stopped before (with why): planned to be read, or skipped as a copy of an input of
    /// this run whose load did not finish. Empty when the load finished.
    public var notTried: [(path: String, reason: String)] = []
    /// What the load decided for each input before reading it (empty when it stopped before deciding).
    public var plans: [InputPlan] = []
    /// The error that stopped the load, when one did: kept as it is, with its kind and cause.
    public var error: (any Error)?
    /// Why the load stopped, in words, when it did not finish: the error's description unless a reason
    /// was given in words (an exhausted error budget, an interrupt) or what was kept was added to it.
    public var message: String? {
        get { stopMessage ?? error.map { "\($0)" } }
        set { stopMessage = newValue }
    }
    /// A reason given in words, which `message` says instead of the error's description.
    private var stopMessage: String?
    /// True when it stopped because of an interrupt signal.
    public var wasInterrupted = false
    /// Where the writer's time went.
    public var writerTimings = WriterTimings()
    /// The first few diagnostics, for a human summary.
    public var sampleDiagnostics: [RecordDiagnostic] = []
    /// What the load did that its user should know of, though nothing failed (a rejects file a resume
    /// found written by other loads and left uncut, say).
    public var notes: [String] = []

    public init() {}

    public var factsPerSecond: Double {
        seconds > 0 ? Double(inserted + updated + duplicates) / seconds : 0
    }
}

/// Seconds the writer spent in each phase of a load: the figures behind a benchmark's rate.
public struct WriterTimings: Sendable {
    /// Waiting for the next segment (the stages before the writer were slower).
    public var waiting = 0.0
    /// Staging batches: binding and stepping inserts, and their commits (merges excluded).
    public var writing = 0.0
    /// Inside the batches' `COMMIT`s (part of `writing`).
    public var committing = 0.0
    /// Moving staged facts into `facts` (every million facts and at the end of each source).
    public var merging = 0.0
    /// Each batch's `COMMIT`, one duration per batch.
    public var commitLatencies = LatencySample()
    /// Building the secondary indexes after a bulk load.
    public var indexing = 0.0
    /// Statement ranges the merges sorted one after another, when their rows outweighed the memory
    /// beside the page cache (one a merge otherwise).
    public internal(set) var mergedPieces = 0

    /// Seconds since `start`.
    static func since(_ start: ContinuousClock.Instant) -> Double {
        seconds(since: start)
    }
}
