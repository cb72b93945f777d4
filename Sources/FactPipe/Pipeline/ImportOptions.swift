/// Everything a load can be told: inputs, target, format, batching, conflicts, limits and error budget.
public struct ImportOptions: Sendable {
    /// Input paths; `-` is standard input.
    public var inputs: [String]
    /// The database file, created when missing: a file path, never empty, `:memory:` or a URI.
    public var databasePath: String
    public var format: InputFormat = .auto
    /// Keep a context or metadata object that gives a name twice, as stored before such objects were
    /// refused (a restore of a snapshot an earlier release exported; `JSONScanner.refusesRepeatedNames`).
    var keepsRepeatedNames = false
    /// Store each statement as the record writes it, not in canonical form (a restore of a snapshot of a
    /// version-1 database, whose statements are in the canonical form of then: `CanonicalFormMigration` then
    /// does to them what it does to that database).
    var keepsStatementsAsWritten = false
    /// Records per transaction.
    public var batchSize: Int = 50_000
    /// Staged facts that make the writer merge at the next batch boundary (tests lower it).
    var mergeThreshold = FactSchema.mergeThreshold
    /// How much a merge into `facts` with its indexes sorts at once (tests lower it); nil takes what the
    /// soft heap limit leaves beside the page cache (`DatabaseSettings.mergeSortBytes`).
    var mergeSortBytes: Int?
    public var conflictPolicy: ConflictPolicy = .ignore
    /// True when a pipeline file gave these options: a refusal names its keys (`load.on_conflict = "skip"`),
    /// not the flags of `import` (`--on-conflict skip`), which the user of `run` never typed.
    public var isFromPipelineFile = false
    /// Where refused records are written as NDJSON; nil writes none.
    public var rejectsPath: String?
    /// Append to the rejects file instead of starting it anew (pipelines whose inputs share one).
    public var appendsRejects = false
    /// Abort once more than this many records were refused; nil never aborts for rejects.
    public var maxErrors: Int?
    /// One transaction for the whole load: all or nothing.
    public var isAtomic = false
    /// Refuse records whose parts disagree with their statement instead of warning.
    public var strictParts = false
    public var limits: FactLimits = .default
    /// Parser and validator workers; 0 chooses from the number of cores.
    public var workers = 0
    public var database = DatabaseSettings()
    /// True when the caller chose `database.cacheKiB` (`--cache-mb`), even at its default value: a load
    /// into PostgreSQL, which has no such cache, refuses it.
    public var isCacheSizeGiven = false
    /// Load into a database with the knowledge base's own schema, through the columns its `facts`
    /// table has, firing its triggers, without altering it (no ledger, no resume).
    public var intoExisting = false
    /// Continue the last interrupted load of each input after its last committed record.
    public var resume = false
    /// Load inputs even when the ledger says the same content was loaded before.
    public var force = false
    /// Input field or column names to read as factpipe's (`"text": "statement"`), applied before the aliases.
    public var fieldMapping: [String: String] = [:]
    /// How long to wait for another load into the same database to finish.
    public var lockTimeoutSeconds = 60.0

    public init(inputs: [String], databasePath: String) {
        self.inputs = inputs
        self.databasePath = databasePath
    }
}
