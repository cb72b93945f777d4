import Foundation
import Testing

@testable import FactPipe

/// The package root, found from this file's path.
func packageRoot(filePath: String = #filePath) -> URL {
    URL(fileURLWithPath: filePath)
        .deletingLastPathComponent()  // Pipelines
        .deletingLastPathComponent()  // FactPipeTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // package root
}

/// The example pipeline files under `pipelines/`.
func examplePipelineFiles() throws -> [String] {
    let folder = packageRoot().appendingPathComponent("pipelines")
    return try FileManager.default.contentsOfDirectory(atPath: folder.path)
        .filter { $0.hasSuffix(".toml") }.sorted().map { folder.appendingPathComponent($0).path }
}

/// Files (names only) in a folder, recursively, for "nothing was written" checks.
func filesIn(_ folder: String) -> [String] {
    (FileManager.default.enumerator(atPath: folder)?.allObjects as? [String] ?? []).sorted()
}

/// Reading pipeline files: the examples, every key's checks, and the errors with file, line and key.
@Suite struct PipelineFileTests {
    private func load(_ text: String, in work: LoadWorkspace, name: String = "p.toml") throws -> PipelineFile {
        try PipelineFile.load(path: try work.write(name, text))
    }

    private func loadError(_ text: String, in work: LoadWorkspace) throws -> PipelineFileError {
        let path = try work.write("bad.toml", text)
        do {
            let file = try PipelineFile.load(path: path)
            Issue.record("loaded \(file.name) although it is bad")
            throw CancellationError()
        } catch let error as PipelineFileError {
            return error
        }
    }

    @Test func thereAreExamplePipelines() throws {
        let names = try examplePipelineFiles().map { URL(fileURLWithPath: $0).lastPathComponent }
        #expect(names == ["migrate-knowledge-base.toml", "nightly-ndjson.toml", "weekly-snapshot.toml"])
    }

    @Test func everyExamplePipelineLoadsAndItsSourcesMatchFiles() throws {
        for path in try examplePipelineFiles() {
            let file = try PipelineFile.load(path: path)
            let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            #expect(file.name == stem, "\(path)")
            #expect(file.path == path)
            // Relative paths resolve against the file's folder.
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
            #expect(file.databasePath.hasPrefix(folder + "/../demo-data/"), "\(file.databasePath)")
            #expect(file.options.databasePath == file.databasePath)
            #expect(file.sourcePatterns.allSatisfy { $0.hasPrefix(folder + "/") }, "\(file.sourcePatterns)")
            let inputs = file.expandSources()
            #expect(!inputs.isEmpty, "\(path) matches no input")
            #expect(inputs.allSatisfy { FileManager.default.fileExists(atPath: $0) })
            #expect(file.options.inputs.isEmpty)
        }
    }

    @Test func migrateKnowledgeBasePipelineSettings() throws {
        let path = try #require(try examplePipelineFiles().first { $0.hasSuffix("migrate-knowledge-base.toml") })
        let file = try PipelineFile.load(path: path)
        #expect(file.options.conflictPolicy == .ignore)
        #expect(file.options.batchSize == 10_000)
        #expect(file.options.format == .auto)
        #expect(file.rejectsTemplate?.hasSuffix("/../demo-data/rejects/migration-{source}.ndjson") == true)
        #expect(file.optimizesAfter)
        #expect(file.snapshotTemplate?.hasSuffix("/../demo-data/snapshots/migrated-kb-{date}.ndjson.zst") == true)
        #expect(file.keepSnapshots == 3)
        #expect(file.options.fieldMapping.isEmpty)
        let inputs = file.expandSources().map { URL(fileURLWithPath: $0).lastPathComponent }
        #expect(inputs == ["hexagonal_kb-2025-09-15.db.zst", "kb_statements.txt"])
    }

    @Test func nightlyPipelineSettings() throws {
        let path = try #require(try examplePipelineFiles().first { $0.hasSuffix("nightly-ndjson.toml") })
        let file = try PipelineFile.load(path: path)
        #expect(file.options.batchSize == 50_000)
        #expect(file.options.maxErrors == 1_000)
        #expect(file.options.lockTimeoutSeconds == 300)
        #expect(file.options.limits.maxArgs == 10)
        #expect(file.options.limits.maxArgLength == 500)
        #expect(file.optimizesAfter)
        #expect(file.snapshotTemplate == nil)
        // Each pattern's matches sorted; the fixtures' NDJSON files first.
        let inputs = file.expandSources().map { URL(fileURLWithPath: $0).lastPathComponent }
        #expect(Array(inputs.prefix(2)) == ["k_assistant_facts.ndjson", "kb_facts.ndjson"])
    }

    @Test func weeklySnapshotPipelineSettings() throws {
        let path = try #require(try examplePipelineFiles().first { $0.hasSuffix("weekly-snapshot.toml") })
        let file = try PipelineFile.load(path: path)
        #expect(file.options.format == .text)
        #expect(file.options.conflictPolicy == .update)
        #expect(file.options.batchSize == ImportOptions(inputs: [], databasePath: "").batchSize)
        #expect(!file.optimizesAfter)
        #expect(file.keepSnapshots == 4)
        #expect(file.expandSources().map { URL(fileURLWithPath: $0).lastPathComponent } == ["tool_sync_facts.txt"])
    }

    @Test func everyExamplePipelineDryRunsWritingNothing() throws {
        for path in try examplePipelineFiles() {
            let work = try LoadWorkspace()
            var file = try PipelineFile.load(path: path)
            file.databasePath = work.databasePath
            file.options.databasePath = work.databasePath
            file.rejectsTemplate = work.path("rejects/{date}-{source}.ndjson")
            let summary = PipelineRunner(file: file, isDryRun: true).run()
            #expect(summary.isDryRun)
            #expect(summary.status == .done, "\(summary.message ?? "")")
            #expect(summary.name == file.name)
            #expect(summary.inputs.map(\.path) == file.expandSources())
            #expect(summary.inputs.allSatisfy { $0.decision == .load && $0.summary == nil })
            #expect(summary.steps.isEmpty)
            #expect(filesIn(work.directory.url.path).isEmpty, "a dry run wrote \(filesIn(work.directory.url.path))")
        }
    }

    @Test func relativePathsResolveAgainstTheFilesFolderAndAbsoluteOnesStay() throws {
        let work = try LoadWorkspace()
        try FileManager.default.createDirectory(atPath: work.path("jobs"), withIntermediateDirectories: true)
        let file = try PipelineFile.load(path: try work.write("jobs/p.toml", """
            name = "p"
            database = "../kb.sqlite"
            [sources]
            paths = ["in/*.txt", "/abs/*.ndjson"]
            [load]
            rejects = "rejects/{source}.ndjson"
            [after]
            snapshot = "/snapshots/kb-{date}.ndjson.zst"
            """))
        let folder = work.path("jobs")
        #expect(file.databasePath == folder + "/../kb.sqlite")
        #expect(file.sourcePatterns == [folder + "/in/*.txt", "/abs/*.ndjson"])
        #expect(file.rejectsTemplate == folder + "/rejects/{source}.ndjson")
        #expect(file.snapshotTemplate == "/snapshots/kb-{date}.ndjson.zst")
    }

    /// A PostgreSQL URL is an address, not a path relative to the file's folder.
    @Test func aPostgreSQLDatabaseURLIsKeptAsGiven() throws {
        let work = try LoadWorkspace()
        try FileManager.default.createDirectory(atPath: work.path("jobs"), withIntermediateDirectories: true)
        let url = "postgresql://kb:s3cret@db.example.com:5432/knowledge?sslmode=require"
        let file = try PipelineFile.load(path: try work.write("jobs/p.toml", """
            name = "p"
            database = "\(url)"
            [sources]
            paths = ["in/*.txt"]
            """))
        #expect(file.databasePath == url)
        #expect(file.options.databasePath == url)
    }

    @Test func everyKeyIsRead() throws {
        let work = try LoadWorkspace()
        let file = try load("""
            name = "all-keys"
            description = "every key once"
            database = "kb.sqlite"
            [sources]
            paths = ["a.csv"]
            format = "csv"
            [load]
            on_conflict = "replace"
            batch_size = 7
            atomic = true
            strict_parts = true
            max_errors = 0
            rejects = "r.ndjson"
            into_existing = true
            wait_seconds = 5
            [limits]
            max_args = 3
            max_arg_length = 40
            max_predicate_length = 20
            max_statement_bytes = 300
            max_record_bytes = 64
            [mapping]
            "Fact Text" = "statement"
            [after]
            optimize = false
            snapshot = "s-{date}.ndjson.zst"
            keep_snapshots = 2
            """, in: work)
        let o = file.options
        #expect(o.format == .csv)
        #expect(o.conflictPolicy == .replace)
        #expect(o.batchSize == 7)
        #expect(o.isAtomic && o.strictParts && o.intoExisting)
        #expect(o.maxErrors == 0)
        #expect(o.lockTimeoutSeconds == 5)
        #expect(o.limits.maxArgs == 3 && o.limits.maxArgLength == 40 && o.limits.maxPredicateLength == 20)
        #expect(o.limits.maxStatementBytes == 300 && o.limits.maxRecordBytes == 64)
        #expect(o.fieldMapping == ["fact text": "statement"])
        #expect(!file.optimizesAfter)
        #expect(file.keepSnapshots == 2)
        #expect(file.rejectsTemplate == work.path("r.ndjson"))
    }

    // MARK: Bad files

    /// Each bad fixture: the line (nil when the key is missing altogether), the key, and the message.
    static let badFixtures: [(file: String, line: Int?, key: String?, message: String)] = [
        ("bad-unknown-key.toml", 9, "load.batchsize", "unknown key; known in this table: atomic, batch_size, "
            + "into_existing, max_errors, on_conflict, rejects, strict_parts, wait_seconds"),
        ("bad-unknown-table.toml", 8, "[loading]", "unknown table; known: [after], [limits], [load], [mapping], [sources]"),
        ("bad-batch-size-string.toml", 10, "load.batch_size", "must be an integer, not a string"),
        ("bad-on-conflict.toml", 9, "load.on_conflict", "overwrite is not one of ignore, replace, update, fail"),
        ("bad-missing-database.toml", nil, "database", "is required"),
        ("bad-missing-name.toml", nil, "name", "is required"),
        ("bad-missing-sources-paths.toml", nil, "sources.paths", "is required"),
        ("bad-unclosed-string.toml", 2, nil, "string not closed on its line"),
        ("bad-inline-table.toml", 9, nil, "inline tables are not supported; use a [table]"),
        ("bad-dotted-key.toml", 4, nil, "dotted keys are not supported"),
    ]

    @Test func everyBadFixtureIsRefusedWithItsLineAndKey() throws {
        let folder = fixtureURL("pipelines").path
        let present = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix("bad-") }.sorted()
        #expect(present == Self.badFixtures.map(\.file).sorted())
        for (name, line, key, message) in Self.badFixtures {
            let path = folder + "/" + name
            do {
                _ = try PipelineFile.load(path: path)
                Issue.record("\(name) loaded")
            } catch {
                #expect(error.path == path, "\(name)")
                #expect(error.line == line, "\(name): \(error)")
                #expect(error.key == key, "\(name): \(error)")
                #expect(error.message == message, "\(name): \(error)")
                var expected = path + (line.map { ":\($0)" } ?? "") + ": "
                if let key { expected += key + ": " }
                #expect(error.description == expected + message)
            }
        }
    }

    @Test func everyFieldOfFactpipesIsAMappingTarget() throws {
        let work = try LoadWorkspace()
        let file = try load("""
            name = "p"
            database = "kb.sqlite"
            [sources]
            paths = ["*.txt"]
            [mapping]
            kind = "type"
            body = "content"
            third = "arg3"
            when = "timestamp"
            """, in: work)
        #expect(file.options.fieldMapping == ["kind": "type", "body": "content", "third": "arg3", "when": "timestamp"])
    }

    /// factpipe expands no variables: a `${INDIR}` left in a path was a folder that is not there (a quiet
    /// night) and a `$DB` database a file of that name. A `$` elsewhere in a name, or in a URL's password, stays.
    @Test func aShellVariableLeftInAPathIsRefusedWithItsKeyAndLine() throws {
        let work = try LoadWorkspace()
        let advice = " looks like a shell variable, and factpipe expands none: expand them first, e.g. "
            + "`factpipe run <(envsubst < pipeline.toml)`, with every variable set"
        let cases: [(String, Int, String, String)] = [
            ("name = \"p\"\ndatabase = \"kb.sqlite\"\n[sources]\npaths = [\"${INDIR}/*.txt\"]\n", 4, "sources.paths",
             "${INDIR}"),
            ("name = \"p\"\ndatabase = \"$DB\"\n[sources]\npaths = [\"*.txt\"]\n", 2, "database", "$DB"),
            ("name = \"p\"\ndatabase = \"data/$KB_1.sqlite\"\n[sources]\npaths = [\"*.txt\"]\n", 2, "database",
             "$KB_1"),
            ("name = \"p\"\ndatabase = \"kb.sqlite\"\n[sources]\npaths = [\"*.txt\"]\n[load]\nrejects = \"r/${DAY\"\n", 6,
             "load.rejects", "${DAY"),
            ("name = \"p\"\ndatabase = \"kb.sqlite\"\n[sources]\npaths = [\"*.txt\"]\n[after]\nsnapshot = \"${OUT}.zst\"\n", 6,
             "after.snapshot", "${OUT}"),
        ]
        for (text, line, key, variable) in cases {
            let error = try loadError(text, in: work)
            #expect(error.line == line && error.key == key, "\(error)")
            #expect(error.message == variable + advice, "\(error)")
        }
        let kept = try load("""
            name = "p"
            database = "postgresql://u:pa$word@127.0.0.1/kb"
            [sources]
            paths = ["price$list/*.txt", "a$1.txt", "$x/*.txt", "$Data/a.txt"]
            """, in: work)
        #expect(kept.databasePath == "postgresql://u:pa$word@127.0.0.1/kb")
        #expect(kept.sourcePatterns.map { ($0 as NSString).lastPathComponent } == ["*.txt", "a$1.txt", "*.txt", "a.txt"])
    }

    /// `{date}` and `{source}` are expanded in the rejects path (and `{date}` in the snapshot's) only: in a
    /// source pattern `{date}` matched no file, a quiet night every night, and in `database` it named a
    /// database `kb-{date}.sqlite`. Refused where they are not expanded, with the key and line.
    @Test func aPlaceholderWhereItIsNotExpandedIsRefusedWithItsKeyAndLine() throws {
        let work = try LoadWorkspace()
        let head = "name = \"p\"\n"
        let cases: [(String, Int, String, String)] = [
            ("database = \"kb.sqlite\"\n[sources]\npaths = [\"a.txt\", \"in/export-{date}*.txt\"]\n", 4,
             "sources.paths", "{date} is not expanded here, only in load.rejects and after.snapshot"),
            ("database = \"kb-{date}.sqlite\"\n[sources]\npaths = [\"*.txt\"]\n", 2, "database",
             "{date} is not expanded here, only in load.rejects and after.snapshot"),
            ("database = \"kb.sqlite\"\n[sources]\npaths = [\"{source}.txt\"]\n", 4, "sources.paths",
             "{source} is not expanded here, only in load.rejects"),
            ("database = \"kb.sqlite\"\n[sources]\npaths = [\"*.txt\"]\n[after]\nsnapshot = \"s/{source}.zst\"\n", 6,
             "after.snapshot", "{source} is not expanded here, only in load.rejects"),
        ]
        for (text, line, key, message) in cases {
            let error = try loadError(head + text, in: work)
            #expect(error.line == line && error.key == key, "\(error)")
            #expect(error.message.hasPrefix(message), "\(error)")
        }
        let kept = try load(head + """
            database = "kb.sqlite"
            [sources]
            paths = ["in/*.txt"]
            [load]
            rejects = "rejects/{date}-{source}.ndjson"
            [after]
            snapshot = "snapshots/kb-{date}.ndjson.zst"
            """, in: work)
        #expect(kept.rejectsTemplate?.hasSuffix("rejects/{date}-{source}.ndjson") == true)
        #expect(kept.snapshotTemplate?.hasSuffix("snapshots/kb-{date}.ndjson.zst") == true)
    }

    @Test func valuesOutOfRangeOrOfTheWrongTypeNameTheirKeyAndLine() throws {
        let work = try LoadWorkspace()
        let head = "name = \"p\"\ndatabase = \"kb.sqlite\"\n[sources]\npaths = [\"*.txt\"]\n"
        let cases: [(String, Int, String?, String)] = [
            ("[load]\nbatch_size = 0\n", 6, "load.batch_size", "must be at least 1, not 0"),
            ("[load]\nmax_errors = -1\n", 6, "load.max_errors", "must be at least 0, not -1"),
            ("[load]\natomic = \"yes\"\n", 6, "load.atomic", "must be true or false, not a string"),
            ("[load]\nbatch_size = 1.5\n", 6, "load.batch_size", "must be an integer, not a float"),
            ("[limits]\nmax_record_bytes = 63\n", 6, "limits.max_record_bytes", "must be at least 64, not 63"),
            ("[after]\nkeep_snapshots = 3\n", 6, "after.keep_snapshots", "needs after.snapshot"),
            // Written plain under a name that promises gzip.
            ("[after]\nsnapshot = \"kb-{date}.ndjson.gz\"\n", 6, "after.snapshot",
             "a snapshot is zstd (a name ending in .zst) or plain, not gzip: name it kb-{date}.ndjson.zst"),
            ("[after]\nsnapshot = \"kb-{date}.ndjson.ZST\"\n", 6, "after.snapshot",
             "only a name ending in .zst (so spelt) is compressed: name it kb-{date}.ndjson.zst"),
            ("[mapping]\ntext = 1\n", 6, "mapping.text", "must be a string, not an integer"),
            // A misspelt target put the value in fact_metadata and left the field to its default, silently.
            ("[mapping]\nscore = \"confidance\"\n", 6, "mapping.score",
             "\"confidance\" is not a field of factpipe's; map to one of " + PipelineFileReader.mappingTargetList),
            ("[mapping]\nfrom = \"subject\"\nto = \"Subject\"\n", 7, "mapping.to",
             "maps to Subject as mapping.from does (subject); a record holding both would lose one"),
            ("[mapping]\na = \"s\"\nb = \"statement\"\n", 7, "mapping.b",
             "maps to statement as mapping.a does (s); a record holding both would lose one"),
            ("[mapping]\nText = \"statement\"\ntext = \"source\"\n", 7, "mapping.text",
             "differs from mapping.Text only by case, and CSV columns are matched whatever their case; keep one"),
            ("[sources]\n", 5, nil, "table [sources] is defined twice"),
            ("[sources.extra]\n", 5, nil, "expected ']' after the table name"),
        ]
        for (tail, line, key, message) in cases {
            let error = try loadError(head + tail, in: work)
            #expect(error.line == line, "\(tail): \(error)")
            #expect(error.key == key, "\(tail): \(error)")
            #expect(error.message == message, "\(tail): \(error)")
        }
        let emptyPaths = try loadError("name = \"p\"\ndatabase = \"kb.sqlite\"\n[sources]\npaths = []\n", in: work)
        #expect(emptyPaths.line == 4 && emptyPaths.key == "sources.paths")
        #expect(emptyPaths.message == "must be a non-empty array of paths or globs")
        let notArray = try loadError("name = \"p\"\ndatabase = \"kb.sqlite\"\n[sources]\npaths = \"*.txt\"\n", in: work)
        #expect(notArray.line == 4 && notArray.key == "sources.paths")
        let emptyName = try loadError("name = \"\"\ndatabase = \"kb.sqlite\"\n[sources]\npaths = [\"a\"]\n", in: work)
        #expect(emptyName.line == 1 && emptyName.key == "name" && emptyName.message == "must not be empty")
        let pathItem = try loadError("name = \"p\"\ndatabase = \"kb.sqlite\"\n[sources]\npaths = [\n  \"a\",\n  3,\n]\n", in: work)
        #expect(pathItem.line == 6 && pathItem.key == "sources.paths", "\(pathItem)")
    }

    /// Bytes that are not UTF-8 were read as U+FFFD: `database = "kb\xE9.sqlite"` made `kb\u{FFFD}.sqlite` and
    /// a source in such a folder matched nothing (exit 0). Refused with the line; a leading BOM is skipped.
    @Test func aFileThatIsNotUTF8IsRefusedWithItsLineAndABOMIsSkipped() throws {
        let work = try LoadWorkspace()
        let latin1 = Array("name = \"p\"\ndatabase = \"kb".utf8) + [0xE9] + Array(".sqlite\"\n[sources]\npaths = [\"*.txt\"]\n".utf8)
        let path = try work.write("latin1.toml", latin1)
        do {
            _ = try PipelineFile.load(path: path)
            Issue.record("a file that is not UTF-8 was read")
        } catch {
            #expect(error.line == 2, "\(error)")
            #expect(error.message == "is not UTF-8 text; a pipeline file is TOML, which is UTF-8: save it as UTF-8")
        }
        let bom = try work.write("bom.toml", [0xEF, 0xBB, 0xBF] + Array("name = \"p\"\ndatabase = \"kb.sqlite\"\n[sources]\npaths = [\"*.txt\"]\n".utf8))
        #expect(try PipelineFile.load(path: bom).name == "p")
    }

    @Test func aMissingFileIsAnErrorNamingIt() throws {
        let work = try LoadWorkspace()
        do {
            _ = try PipelineFile.load(path: work.path("nope.toml"))
            Issue.record("loaded a missing file")
        } catch {
            #expect(error.path == work.path("nope.toml"))
            #expect(error.line == nil)
            #expect(error.message.hasPrefix("cannot read the pipeline file: "), "\(error)")
            #expect(error.message.contains("No such file"), "\(error)")
        }
    }

    /// A folder read as a file gave no bytes and no error: `run folder` said "name: is required".
    @Test func aFolderOrAnOversizedFileIsAnErrorNamingWhy() throws {
        let work = try LoadWorkspace()
        try FileManager.default.createDirectory(atPath: work.path("jobs"), withIntermediateDirectories: true)
        do {
            _ = try PipelineFile.load(path: work.path("jobs"))
            Issue.record("loaded a folder")
        } catch {
            #expect(error.path == work.path("jobs") && error.line == nil && error.key == nil, "\(error)")
            #expect(error.message == "cannot read the pipeline file: Is a directory", "\(error)")
        }
        let big = try work.write("big.toml", "# " + String(repeating: "x", count: PipelineFile.mostBytes) + "\n")
        do {
            _ = try PipelineFile.load(path: big)
            Issue.record("loaded a file over the limit")
        } catch {
            #expect(error.message == "larger than 1 MiB: not a pipeline file", "\(error)")
        }
    }

    /// Through a symlink, relative paths resolve against the link's folder (docs/recurring-loads.md): one
    /// file linked into several data folders runs in each.
    @Test func relativePathsResolveAgainstTheFolderOfTheLinkRun() throws {
        let work = try LoadWorkspace()
        for folder in ["jobs", "data"] {
            try FileManager.default.createDirectory(atPath: work.path(folder), withIntermediateDirectories: true)
        }
        try work.write("jobs/nightly.toml", """
            name = "n"
            database = "kb.sqlite"
            [sources]
            paths = ["*.ndjson"]
            [load]
            rejects = "rejects/{date}.ndjson"
            """)
        try FileManager.default.createSymbolicLink(
            atPath: work.path("data/nightly.toml"), withDestinationPath: "../jobs/nightly.toml")
        let linked = try PipelineFile.load(path: work.path("data/nightly.toml"))
        #expect(linked.databasePath == work.path("data/kb.sqlite"))
        #expect(linked.sourcePatterns == [work.path("data/*.ndjson")])
        #expect(linked.rejectsTemplate == work.path("data/rejects/{date}.ndjson"))
        let direct = try PipelineFile.load(path: work.path("jobs/nightly.toml"))
        #expect(direct.databasePath == work.path("jobs/kb.sqlite"))
    }

    // MARK: Templates and globs

    @Test func templatesFillInTheDateAndTheSourceStem() {
        #expect(PipelineFile.expand("/r/{date}-{source}.ndjson", date: "2025-09-15", source: "/in/kb_facts.ndjson.zst")
            == "/r/2025-09-15-kb_facts.ndjson")
        #expect(PipelineFile.expand("/s/kb-{date}.ndjson.zst", date: "2025-09-15") == "/s/kb-2025-09-15.ndjson.zst")
        #expect(PipelineFile.expand("{source}/{source}", date: "d", source: "x.txt") == "x/x")
        // Only the extensions of a format and a compression go: dates in a name keep sources apart.
        #expect(PipelineFile.expand("{source}", date: "d", source: "in/kb.2025.09.15.ndjson") == "kb.2025.09.15")
        #expect(PipelineFile.expand("{source}", date: "d", source: "in/kb.2025.09.16.CSV.GZ") == "kb.2025.09.16")
        #expect(PipelineFile.expand("{source}", date: "d", source: "in/notes.v2") == "notes.v2")
        #expect(PipelineFile.expand("{source}", date: "d", source: "in/.ndjson") == ".ndjson")
        // Without a source, {source} stays as it is.
        #expect(PipelineFile.expand("{source}", date: "d") == "{source}")
    }

    @Test func globsAreSortedPerPatternAndRepeatsDropped() throws {
        let work = try LoadWorkspace()
        for name in ["c.txt", "a.txt", "b.ndjson", "b.txt"] { try work.write(name, "P(x).\n") }
        let file = try load("""
            name = "p"
            database = "kb.sqlite"
            [sources]
            paths = ["*.txt", "b.*", "missing/*.txt"]
            """, in: work)
        #expect(file.expandSources() == ["a.txt", "b.txt", "c.txt", "b.ndjson"].map { work.path($0) })
    }
    /// The folder of the pipeline file is a name, not a pattern: a pipeline in `kb [x]/` loaded the files of
    /// `kb x/` beside it, or else had "no input" every night, and a missing source named without wildcards
    /// was a quiet night instead of an error. The patterns the file gives keep their wildcards.
    @Test func theFoldersOfAPipelineFileAreTakenAsTheyAreWritten() throws {
        let work = try LoadWorkspace()
        for folder in ["kb [x]", "kb x", "kb*"] {
            try FileManager.default.createDirectory(atPath: work.path(folder), withIntermediateDirectories: false)
        }
        try work.write("kb [x]/mine.ndjson", "{\"statement\": \"P(a).\"}\n")
        try work.write("kb [x]/data[1].ndjson", "{\"statement\": \"P(b).\"}\n")
        try work.write("kb x/theirs.ndjson", "{\"statement\": \"P(c).\"}\n")
        try work.write("kb*/theirs.ndjson", "{\"statement\": \"P(d).\"}\n")
        let file = try load(pipeline(["*.ndjson", "data[1].ndjson"]), in: work, name: "kb [x]/p.toml")
        let mine = ["data[1].ndjson", "mine.ndjson"].map { work.path("kb [x]/\($0)") }
        #expect(file.expandSources() == mine)
        #expect(try file.checkedSources() == mine)

        for folder in ["kb [x]", "kb*"] {
            let missing = try load(pipeline(["missing.ndjson"]), in: work, name: "\(folder)/missing.toml")
            let error = #expect(throws: PipelineFileError.self) { try missing.checkedSources() }
            #expect(error?.path == work.path("\(folder)/missing.ndjson"))
            #expect(error?.message.contains("no such file") == true, "\(String(describing: error))")
        }
        // A backslash in a source named without wildcards is part of its name, not an escape.
        try work.write("kb [x]/a\\b.ndjson", "{\"statement\": \"P(e).\"}\n")
        try work.write("kb [x]/ab.ndjson", "{\"statement\": \"P(f).\"}\n")
        let backslash = try load(pipeline(["a\\\\b.ndjson"]), in: work, name: "kb [x]/backslash.toml")
        #expect(try backslash.checkedSources() == [work.path("kb [x]/a\\b.ndjson")])

        let gone = try load(pipeline(["in/*.ndjson"]), in: work, name: "kb [x]/gone.toml")
        let error = #expect(throws: PipelineFileError.self) { try gone.checkedSources() }
        #expect(error?.path == work.path("kb [x]/in/*.ndjson"))
        #expect(error?.message.hasPrefix("no such folder \(work.path("kb [x]/in")) ") == true, "\(String(describing: error))")
    }

    /// A pipeline file loading `paths` into `kb.sqlite`.
    private func pipeline(_ paths: [String]) -> String {
        "name = \"p\"\ndatabase = \"kb.sqlite\"\n[sources]\npaths = [" + paths.map { "\"\($0)\"" }.joined(separator: ", ") + "]\n"
    }
}

