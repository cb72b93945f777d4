#if canImport(Glibc)
import Glibc
#endif

/// An import option a load can refuse, named as the command line spells it and, where a pipeline
/// file can set it, as its key there.
public enum ImportOption: String, Sendable, CaseIterable {
    case batchSize = "--batch-size"
    case maxErrors = "--max-errors"
    case maxArgs = "--max-args"
    case maxArgLength = "--max-arg-length"
    case maxPredicateLength = "--max-predicate-length"
    case maxStatementBytes = "--max-statement-bytes"
    case maxRecordBytes = "--max-record-bytes"
    case wait = "--wait"
    case workers = "--workers"
    case cacheMB = "--cache-mb"
    case resume = "--resume"
    case intoExisting = "--into-existing"
    /// The input paths (standard input given twice).
    case inputs = "inputs"

    /// The command-line flag (`--resume`).
    public var flag: String { rawValue }

    /// The pipeline file's key for it (`load.batch_size`), nil when a pipeline file cannot set it.
    public var pipelineKey: String? {
        switch self {
        case .batchSize: return "load.batch_size"
        case .maxErrors: return "load.max_errors"
        case .maxArgs: return "limits.max_args"
        case .maxArgLength: return "limits.max_arg_length"
        case .maxPredicateLength: return "limits.max_predicate_length"
        case .maxStatementBytes: return "limits.max_statement_bytes"
        case .maxRecordBytes: return "limits.max_record_bytes"
        case .wait: return "load.wait_seconds"
        case .intoExisting: return "load.into_existing"
        case .workers, .cacheMB, .resume, .inputs: return nil
        }
    }
}

/// Import options that cannot be used as given: the option at fault and why, in one line that
/// names it.
public struct ImportOptionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The option refused.
    public var option: ImportOption
    /// Why, naming the option (`--resume needs factpipe's ledger; --into-existing has none`).
    public var message: String

    public init(_ option: ImportOption, _ message: String) {
        self.option = option
        self.message = message
    }

    public var description: String { message }
}

extension ImportOptions {
    /// The most parser workers a load accepts (each is a thread with its own buffers; past the cores
    /// there is nothing to gain).
    public static let maxWorkers = 64

    /// Checks the options on their own and together, once for every way of giving them (the command
    /// line, a pipeline file, the library): each is either carried out as asked or refused here, so
    /// none is ever silently ignored.
    ///
    /// A load into an existing knowledge base (`intoExisting`) honours every option but `resume`,
    /// which needs factpipe's ledger. A load into PostgreSQL refuses `--into-existing` and SQLite's
    /// page cache size (`--cache-mb`).
    /// - Throws: `ImportOptionError` naming the first option that cannot be used.
    public func validate() throws(ImportOptionError) {
        guard batchSize >= 1 else { throw ImportOptionError(.batchSize, "--batch-size must be at least 1") }
        if let maxErrors, maxErrors < 0 { throw ImportOptionError(.maxErrors, "--max-errors must be 0 or more") }
        let limitChecks: [(ImportOption, Int)] = [
            (.maxArgs, limits.maxArgs), (.maxArgLength, limits.maxArgLength),
            (.maxPredicateLength, limits.maxPredicateLength), (.maxStatementBytes, limits.maxStatementBytes),
        ]
        for (option, value) in limitChecks where value <= 0 {
            throw ImportOptionError(option, "limits must be positive (\(option.flag) is \(value))")
        }
        guard limits.maxRecordBytes >= 64 else {
            throw ImportOptionError(.maxRecordBytes, "--max-record-bytes must be at least 64")
        }
        guard lockTimeoutSeconds >= 0 else { throw ImportOptionError(.wait, "--wait must be 0 or more") }
        if intoExisting && PostgreSQLAddress.isPostgreSQL(databasePath) {
            throw ImportOptionError(.intoExisting, "--into-existing loads into another program's SQLite database; "
                + "a PostgreSQL database is loaded with factpipe's own schema")
        }
        guard workers >= 0 else { throw ImportOptionError(.workers, "--workers must be 0 or more") }
        guard workers <= Self.maxWorkers else {
            throw ImportOptionError(.workers, "--workers must be at most \(Self.maxWorkers) (each worker is a thread "
                + "with its own buffers; past the cores there is nothing to gain)")
        }
        guard database.cacheKiB >= 1024 else { throw ImportOptionError(.cacheMB, "--cache-mb must be at least 1") }
        guard database.cacheKiB <= DatabaseSettings.maxCacheKiB else {
            throw ImportOptionError(
                .cacheMB, "--cache-mb must be at most \(DatabaseSettings.maxCacheKiB / 1024) (1 TiB, the most SQLite's page "
                    + "cache takes)")
        }
        if PostgreSQLAddress.isPostgreSQL(databasePath),
           isCacheSizeGiven || database.cacheKiB != DatabaseSettings().cacheKiB {
            throw ImportOptionError(.cacheMB, "--cache-mb sets SQLite's page cache and applies to SQLite databases "
                + "only; a load into PostgreSQL uses the server's memory (shared_buffers)")
        }
        let readingStandardInput = inputs.filter { $0 == "-" || Self.namesStandardInput($0) }
        guard readingStandardInput.count <= 1 else {
            throw ImportOptionError(
                .inputs, "standard input can be read only once (\(readingStandardInput.joined(separator: ", ")) "
                    + "all read it)")
        }
        if resume && intoExisting {
            throw ImportOptionError(.resume, "--resume needs factpipe's ledger; --into-existing has none")
        }
        if resume, inputs.contains("-") {
            throw ImportOptionError(.resume, "--resume: standard input cannot be resumed")
        }
    }

    /// True when `path` is the file, pipe or terminal standard input reads (`/dev/stdin`, `/proc/self/fd/0`,
    /// or the file `<` redirected from): it reads the same bytes as `-`.
    static func namesStandardInput(_ path: String) -> Bool {
        guard path != "-", !StandardStreams.inputWasClosed else { return false }
        var input = stat()
        var named = stat()
        return fstat(STDIN_FILENO, &input) == 0 && stat(path, &named) == 0
            && input.st_dev == named.st_dev && input.st_ino == named.st_ino
    }
}
