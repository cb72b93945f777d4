#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What `factpipe scale-test` generates, loads and asks.
public struct ScaleTestOptions: Sendable {
    /// Facts to generate and load.
    public var facts = 1_000_000
    /// Queries per pattern; half with keys that exist, half with keys that do not.
    public var queries = 10_000
    /// The database to load into, kept afterwards; nil for a temporary one.
    public var databasePath: String?
    /// Keep the temporary database (its path is in the result).
    public var keepsDatabase = false
    /// Seed of the generated facts and of the query keys.
    public var seed: UInt64 = 42
    /// Where the generated input (and a temporary database) go; nil for `$TMPDIR` or `/tmp`.
    public var workingDirectory: String?
    /// Records per transaction of the load.
    public var batchSize = 50_000
    /// Writes the CSV input (`path`, `count`, `seed`) some other way, such as a child
    /// `factpipe generate` process, so that the generator's memory is not the load's; nil
    /// generates in this process.
    public var generateInput: (@Sendable (_ path: String, _ count: Int, _ seed: UInt64) throws -> Void)?

    /// Creates options with the defaults: a million facts, 10,000 queries per pattern.
    public init(facts: Int = 1_000_000, queries: Int = 10_000) {
        self.facts = facts
        self.queries = queries
    }
}

/// Why a scale test stopped.
public enum ScaleTestError: Error, Sendable, CustomStringConvertible {
    /// The generated input or the temporary directory could not be written.
    case file(FileOutputError)
    /// The database could not be opened or queried.
    case store(StoreError)
    /// The load did not finish; its summary says why.
    case load(ImportSummary)
    /// `--db` names a file that already holds data; a scale test loads into an empty database only.
    case databaseExists(String)

    public var description: String {
        switch self {
        case .file(let error): "\(error)"
        case .store(let error): "\(error)"
        case .load(let summary):
            "the load stopped (\(summary.status.rawValue)): \(summary.message ?? "no reason given")"
        case .databaseExists(let path):
            "\(path) already exists and is not empty; give a new path, or leave out --db for a temporary database"
        }
    }
}

/// `factpipe scale-test`: generates facts with `FactGenerator`, loads them through `ImportPipeline`,
/// then times the `QueryPattern`s against the loaded database.
///
/// ```
/// FactGenerator ──▶ facts.csv (temporary) ──▶ ImportPipeline ──▶ database ──▶ PatternQueries ×4 × N
///                    not timed                 insert rate, peak RSS          latency percentiles
/// ```
/// The generated input is always deleted; the database too, unless it was named or is kept.
public struct ScaleTest: Sendable {
    public var options: ScaleTestOptions

    /// Creates a scale test.
    public init(options: ScaleTestOptions) {
        self.options = options
    }

    /// Runs the test; `note` is told each phase as it starts, and `progress` can cancel the load.
    /// - Throws: `ScaleTestError` when a file cannot be written, the load fails, or a query fails.
    public func run(
        progress: ImportProgress = ImportProgress(), note: (String) -> Void = { _ in }
    ) throws(ScaleTestError) -> ScaleTestResult {
        if let path = options.databasePath, (FileSize.bytes(path) ?? 0) > 0 { throw .databaseExists(path) }
        let directory = try Self.makeTemporaryDirectory(in: options.workingDirectory)
        let input = directory + "/facts.csv"
        let databasePath = options.databasePath ?? directory + "/scale-test.sqlite"
        let keeps = options.databasePath != nil || options.keepsDatabase
        defer {
            unlink(input)
            if !keeps { Self.removeDatabase(databasePath) }
            rmdir(directory)
        }

        note("generating \(options.facts) facts into \(input)")
        let generateStart = ContinuousClock.now
        do {
            if let generateInput = options.generateInput {
                try generateInput(input, options.facts, options.seed)
            } else {
                // The first generator builds the shared vocabulary, which then stays resident.
                var generator = FactGenerator(options: Self.generatorOptions(seed: options.seed))
                try generator.write(count: options.facts, to: try BufferedFileOutput(path: input))
            }
        } catch let error as FileOutputError {
            throw .file(error)
        } catch {
            throw .file(FileOutputError(operation: .write, path: input, code: 0, reason: "\(error)"))
        }
        let generateSeconds = WriterTimings.since(generateStart)

        note("loading into \(databasePath)")
        var importOptions = ImportOptions(inputs: [input], databasePath: databasePath)
        importOptions.format = .csv
        importOptions.batchSize = options.batchSize
        // The generator's buffers and vocabulary came first; measure the load's own peak (the load's summary
        // reads the mark the reset started afresh, or the peak since the start where it cannot be reset). The
        // reset lowers the process's peak too: the peak so far is kept for the whole run's.
        let peakBeforeLoad = ResourceUsage.peakRSSBytes()
        MemoryHighWaterMark.reset()
        let load = ImportPipeline(options: importOptions).run(progress: progress)
        let loadPeakRSSBytes = load.peakRSSBytes
        guard load.status == .done else { throw .load(load) }
        let sizes = FileSize.database(databasePath)

        note("running \(options.queries) queries of each of \(QueryPattern.allCases.count) patterns")
        let patterns: [ScaleTestResult.Pattern]
        do {
            patterns = try QueryTimer(
                path: databasePath, seed: options.seed,
                isCancelled: {
                    progress.isCancelled.load(ordering: .relaxed)
                }
            ).run(queries: options.queries)
        } catch {
            throw .store(error)
        }
        return ScaleTestResult(
            options: options, generateSeconds: generateSeconds, inputBytes: FileSize.bytes(input) ?? 0, load: load,
            loadPeakRSSBytes: loadPeakRSSBytes,
            peakRSSBytes: max(peakBeforeLoad, loadPeakRSSBytes, ResourceUsage.peakRSSBytes()),
            databasePath: databasePath, isDatabaseKept: keeps, databaseBytes: sizes.file, walBytes: sizes.wal,
            patterns: patterns)
    }

    /// What the input is generated with: CSV, no malformed records, no deliberate duplicates.
    public static func generatorOptions(seed: UInt64) -> FactGenerator.Options {
        FactGenerator.Options(seed: seed, format: .csv, invalidRate: 0, duplicateRate: 0)
    }

    /// Creates a fresh directory under `parent` (or `$TMPDIR`, or `/tmp`), named for this process
    /// (`TemporaryName`: `.factpipe-scale-test.factpipe-tmp-…`), after removing those a killed scale test
    /// left there (`removeStaleWorkFolders`).
    static func makeTemporaryDirectory(in parent: String?) throws(ScaleTestError) -> String {
        let base = parent ?? temporaryFolder()
        removeStaleWorkFolders(in: base)
        let directory = TemporaryName.make(for: base + "/" + workFolderName)
        guard mkdir(directory, 0o700) == 0 else {
            let code = errno
            throw .file(
                FileOutputError(operation: .open, path: base, code: code, reason: String(cString: strerror(code))))
        }
        return directory
    }

    /// The name a scale test's work folder is made from.
    static let workFolderName = "factpipe-scale-test"

    /// Removes the work folders in `base` of scale tests whose process is gone (a `kill -9` leaves its
    /// input and database, hundreds of megabytes): only folders factpipe named for a scale test of this
    /// host and PID namespace, and of those only the files a scale test writes; a folder that holds
    /// anything else is left. A scale test that ended removed its input: a folder without one holds a
    /// database kept with `--keep`, and stays.
    static func removeStaleWorkFolders(in base: String) {
        guard let directory = opendir(base) else { return }
        defer { closedir(directory) }
        let descriptor = dirfd(directory)
        while let entry = readdir(directory) {
            let name = DirectoryEntry.name(entry)
            guard name.hasPrefix("." + workFolderName + TemporaryName.marker),
                let owner = TemporaryName.owner(ofEntry: name), owner.place == .current, !owner.isAlive
            else { continue }
            // Through descriptors, never a path: a folder swapped for a link meanwhile is not followed.
            let folder = openat(descriptor, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard folder >= 0 else { continue }
            if unlinkat(folder, "facts.csv", 0) == 0 {
                for suffix in ["", "-wal", "-shm", "-journal", "-factpipe.lock"] {
                    unlinkat(folder, "scale-test.sqlite" + suffix, 0)
                }
            }
            close(folder)
            unlinkat(descriptor, name, AT_REMOVEDIR)
        }
    }

    /// Deletes a database and the files SQLite and factpipe keep beside it.
    static func removeDatabase(_ path: String) {
        for suffix in ["", "-wal", "-shm", "-journal", "-factpipe.lock"] { unlink(path + suffix) }
    }
}
