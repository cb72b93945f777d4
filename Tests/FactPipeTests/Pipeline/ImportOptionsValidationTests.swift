import Foundation
import Testing

@testable import FactPipe

/// `ImportOptions.validate()`: the one check of a load's options, naming the option it refuses.
@Suite struct ImportOptionsValidationTests {
    private func refusal(_ configure: (inout ImportOptions) -> Void) -> ImportOptionError? {
        var options = ImportOptions(inputs: ["in.txt"], databasePath: "kb.sqlite")
        configure(&options)
        do {
            try options.validate()
            return nil
        } catch {
            return error
        }
    }

    @Test func eachRefusalNamesItsOption() {
        let cases: [(ImportOption, (inout ImportOptions) -> Void)] = [
            (.batchSize, { $0.batchSize = 0 }),
            (.maxErrors, { $0.maxErrors = -1 }),
            (.maxArgs, { $0.limits.maxArgs = 0 }),
            (.maxRecordBytes, { $0.limits.maxRecordBytes = 63 }),
            (.wait, { $0.lockTimeoutSeconds = -1 }),
            (.workers, { $0.workers = ImportOptions.maxWorkers + 1 }),
            (.cacheMB, { $0.database.cacheKiB = 512 }),
            (.cacheMB, { $0.database.cacheKiB = DatabaseSettings.maxCacheKiB + 1024 }),
            (.cacheMB, { $0.database.cacheKiB = Int.max }),
            (.inputs, { $0.inputs = ["-", "-"] }),
            (.resume, { $0.resume = true; $0.intoExisting = true }),
            (.resume, { $0.resume = true; $0.inputs = ["-"] }),
        ]
        for (option, configure) in cases {
            let error = refusal(configure)
            #expect(error?.option == option, "\(option)")
            if option != .inputs {
                #expect(error?.message.contains(option.flag) == true, "\(error?.message ?? "")")
            }
        }
    }

    /// SQLite's page cache size is refused for a load into PostgreSQL, given at its default value too,
    /// and never asked for otherwise.
    @Test func aCacheSizeIsRefusedForAPostgreSQLDatabase() {
        let url = "postgresql://kb:s3cret@db.example.com/knowledge"
        for configure: (inout ImportOptions) -> Void in [
            { $0.database.cacheKiB = 64 * 1024 },
            { $0.isCacheSizeGiven = true },
        ] {
            let error = refusal { $0.databasePath = url; configure(&$0) }
            #expect(error?.option == .cacheMB)
            #expect(error?.message.contains("--cache-mb") == true && error?.message.contains("SQLite databases only")
                == true, "\(error?.message ?? "")")
            #expect(error?.message.contains("s3cret") == false)
        }
        #expect(refusal { $0.databasePath = url } == nil)
        #expect(refusal { $0.isCacheSizeGiven = true; $0.database.cacheKiB = 64 * 1024 } == nil)
    }

    /// A load into an existing knowledge base takes every option but --resume.
    @Test func intoExistingTakesEveryOptionButResume() {
        #expect(refusal {
            $0.intoExisting = true
            $0.isAtomic = true
            $0.rejectsPath = "rejects.ndjson"
            $0.appendsRejects = true
            $0.force = true
            $0.maxErrors = 3
            $0.strictParts = true
            $0.database.cacheKiB = 4096
            $0.conflictPolicy = .update
        } == nil)
        #expect(refusal { $0.intoExisting = true; $0.resume = true }?.message
            == "--resume needs factpipe's ledger; --into-existing has none")
    }

    /// The library refuses what the command line would: the load fails before touching the database.
    @Test func aLoadWithRefusedOptionsFailsBeforeOpeningTheDatabase() throws {
        let work = try LoadWorkspace()
        var options = ImportOptions(inputs: [try work.write("in.txt", "P(a).\n")], databasePath: work.path("kb.sqlite"))
        options.intoExisting = true
        options.resume = true
        let summary = ImportPipeline(options: options).run()
        #expect(summary.status == .failed)
        #expect(summary.message == "--resume needs factpipe's ledger; --into-existing has none")
        #expect(!FileManager.default.fileExists(atPath: work.path("kb.sqlite")))
    }

    /// A load of no input fails as the command line's refusal does: it was `done`, with no ledger row.
    @Test func aLoadOfNoInputFailsAndCreatesNothing() throws {
        let work = try LoadWorkspace()
        let summary = ImportPipeline(options: ImportOptions(inputs: [], databasePath: work.path("kb.sqlite"))).run()
        #expect(summary.status == .failed)
        #expect(summary.message == "give one or more inputs, or - for standard input")
        #expect(!FileManager.default.fileExists(atPath: work.path("kb.sqlite")))
    }
}
