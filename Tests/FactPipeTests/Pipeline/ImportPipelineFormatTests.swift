import Foundation
import Testing

@testable import FactPipe

/// Loads of every input format through the whole pipeline, checked in the database on disk.
@Suite struct ImportPipelineFormatTests {
    @Test func ndjsonStoresEveryColumnOfAFact() throws {
        let work = try LoadWorkspace()
        let input = try work.write("facts.ndjson", """
            {"statement":"HasPart(Computer, CPU).","confidence":0.8,"source":"kb","context":{"source":"human"},"tags":["hw"],"fact_metadata":{"m":1},"rowid":7,"created_at":"2024-01-02T03:04:05+01:00"}
            {"s":"Reaction(k:Q(2.3e-4, s^-1), T:Q(298,K))","confidence":"0.5"}

            """)
        let summary = work.load(input)
        #expect(summary.status == .done)
        #expect((summary.records, summary.inserted, summary.rejected, summary.warnings) == (2, 2, 0, 0))
        let db = try work.database()
        let ledger = try #require(try db.ledger().first)
        let facts = try db.facts()
        #expect(facts.count == 2)
        let first = facts[0]
        #expect(first.statement == "HasPart(Computer, CPU).")
        #expect(first.predicate == "HasPart")
        #expect(first.subject == "Computer")
        #expect(first.object == "CPU")
        #expect(first.args == #"["Computer","CPU"]"#)
        #expect(first.arity == 2)
        #expect(first.confidence == 0.8)
        #expect(first.source == "kb")
        #expect(try jsonObject(first.context) == ["source": "human", "tags": ["hw"]])
        #expect(try jsonObject(first.metadata) == ["m": 1, "rowid": 7])
        #expect(first.createdAt == "2024-01-02T02:04:05Z")
        #expect(first.loadID == ledger.id)

        let second = facts[1]
        #expect(second.statement == "Reaction(k:Q(2.3e-4, s^-1), T:Q(298, K)).")
        #expect(second.subject == "k:Q(2.3e-4, s^-1)")
        #expect(second.object == "T:Q(298, K)")
        #expect(second.confidence == 0.5)
        #expect(second.source == nil)
        #expect(second.context == "{}")
        #expect(second.metadata == "{}")
        // Without a creation time of its own, a fact gets the load's start.
        #expect(second.createdAt == ledger.startedAt)
        #expect(Timestamp.normalize(ledger.startedAt) == ledger.startedAt)
    }

    @Test func csvColumnsAreMatchedByName() throws {
        let work = try LoadWorkspace()
        let input = try work.write("facts.csv", """
            rowid,Statement,CONFIDENCE,source,created_at,context,statement_hash
            1,"Uses(NeuralReasoning, DistributedRepresentation).",1.0,system,2024-05-06,"{""source"": ""human_verified""}",
            2,"IsA(Socrates, Human)",0.25,,,{},abc

            """)
        let summary = work.load(input)
        #expect(summary.status == .done)
        #expect(summary.sources.first?.format == .csv)
        #expect((summary.records, summary.inserted) == (2, 2))
        let facts = try work.database().facts()
        #expect(facts.map(\.statement) == ["IsA(Socrates, Human).", "Uses(NeuralReasoning, DistributedRepresentation)."])
        #expect(facts[1].source == "system")
        #expect(facts[1].createdAt == "2024-05-06T00:00:00Z")
        #expect(facts[1].context == #"{"source": "human_verified"}"#)
        #expect(try jsonObject(facts[1].metadata) == ["rowid": "1"])
        #expect(facts[0].confidence == 0.25)
        #expect(facts[0].source == nil)
        #expect(try jsonObject(facts[0].metadata) == ["rowid": "2", "statement_hash": "abc"])
    }

    /// The same parts give the same facts as NDJSON fields and as CSV columns: the NDJSON record's `arg3` was
    /// kept as metadata, so `Q(a, b, c)` became `Q(a, b).` there, while CSV loaded it whole.
    @Test func argumentsByPositionGiveTheSameFactsInNDJSONAndCSV() throws {
        let work = try LoadWorkspace()
        let ndjson = try work.write("parts.ndjson", """
            {"predicate":"Q","subject":"a","object":"b","arg3":"c"}
            {"predicate":"R","subject":"a","arg3":"c"}
            {"predicate":"S","arg1":"x","arg2":"y","arg3":"z","note":"kept"}

            """)
        let csv = try work.write("parts.csv", "predicate,subject,object,arg3,note\nQ,a,b,c,\nR,a,,c,\nS,x,y,z,kept\n")
        let fromNDJSON = work.load(ndjson)
        let db = try work.database()
        #expect((fromNDJSON.inserted, fromNDJSON.rejected) == (2, 1))
        #expect(try db.statements() == ["Q(a, b, c).", "S(x, y, z)."])
        #expect(try db.fact("S(x, y, z).").map { try jsonObject($0.metadata) } == ["note": "kept"])
        let other = try LoadWorkspace()
        let fromCSV = other.load(try other.write("parts.csv", try String(contentsOfFile: csv, encoding: .utf8)))
        #expect((fromCSV.inserted, fromCSV.rejected) == (2, 1))
        #expect(try other.database().statements() == ["Q(a, b, c).", "S(x, y, z)."])
    }

    @Test func tsvPartsColumnsAssembleTheStatement() throws {
        let work = try LoadWorkspace()
        let input = try work.copyFixture("cases/predicates.tsv")
        let summary = work.load(input)
        #expect(summary.status == .done)
        #expect(summary.sources.first?.format == .tsv)
        #expect((summary.records, summary.inserted, summary.rejected) == (4, 3, 1))
        let facts = try work.database().facts()
        #expect(facts.map(\.statement) == ["Composition(Symphony, Beethoven, 9th).", "HasPart(Computer, CPU).", "IsA(Socrates)."])
        #expect(facts[0].arity == 3)
        #expect(try jsonObject(facts[0].metadata) == ["note": "four arguments"])
        #expect(facts[2].object == nil)
    }

    @Test func textSkipsBlankLinesAndCommentsAndKeepsLineNumbers() throws {
        let work = try LoadWorkspace()
        let input = try work.copyFixture("cases/comments_and_blanks.txt")
        let rejects = work.path("rejects.ndjson")
        let summary = work.load(input) { $0.rejectsPath = rejects }
        #expect(summary.status == .done)
        #expect(summary.sources.first?.format == .text)
        // Five statements; comments, blank and whitespace-only lines are not records.
        #expect((summary.records, summary.inserted, summary.duplicates, summary.rejected) == (5, 3, 1, 1))
        let db = try work.database()
        #expect(try db.statements() == [
            "ToolCount(HAK_GAL_Backend_MCP, 68).", "ToolCount(HAK_GAL_Frontend, 115).",
            "ToolSyncAnalysis(2025_01_16, completed).",
        ])
        let reject = try #require(try rejectLines(rejects).first)
        #expect(reject["line"] as? Int == 8)
        #expect(reject["record"] as? String == "this line is free text")
        let ledger = try #require(try db.ledger().first)
        #expect(ledger.checkpointLine == 12)
        #expect(ledger.checkpointOffset == 254)
    }

    @Test func gzipAndZstdInputsLoadTheSameFactsAsPlainText() throws {
        let work = try LoadWorkspace()
        let text = (0..<2_000).map { "Measured(sample\($0), Q(\($0 % 97), mg))." }.joined(separator: "\n") + "\n"
        let plain = try work.write("facts.txt", text)
        // Named .txt on purpose: compression is recognised by the bytes, not the name.
        try gzipCLI(plain, work.path("facts.gz.txt"))
        try zstdCLI(plain, work.path("facts.zst.txt"))
        var statements: [String: [String]] = [:]
        let names: [(String, InputCompression)] = [
            ("facts.txt", .none), ("facts.gz.txt", .gzip), ("facts.zst.txt", .zstd),
        ]
        for (name, compression) in names {
            let database = work.path("\(name).sqlite")
            var options = ImportOptions(inputs: [work.path(name)], databasePath: database)
            options.batchSize = 300
            let summary = ImportPipeline(options: options).run()
            expectCountsAddUp(summary)
            #expect(summary.status == .done, "\(name): \(summary.message ?? "")")
            #expect((summary.records, summary.inserted) == (2_000, 2_000), "\(name)")
            #expect(summary.sources.first?.compression == compression)
            let db = try RawDatabase(database)
            statements[name] = try db.statements()
            let ledger = try #require(try db.ledger().first)
            #expect(ledger.compression == compression.rawValue)
            #expect(ledger.format == "text")
            // The checkpoint counts decoded bytes; the size is the file's own.
            #expect(ledger.checkpointOffset == text.utf8.count, "\(name)")
            #expect(ledger.checkpointLine == 2_001)
            let fileSize = try FileManager.default.attributesOfItem(atPath: work.path(name))[.size] as? Int
            #expect(ledger.sourceSize == fileSize, "\(name)")
        }
        #expect(statements["facts.txt"]?.count == 2_000)
        #expect(statements["facts.txt"] == statements["facts.gz.txt"])
        #expect(statements["facts.txt"] == statements["facts.zst.txt"])
    }

    @Test func byteOrderMarkAndCRLFLineEndsAreAccepted() throws {
        let work = try LoadWorkspace()
        let input = try work.copyFixture("cases/crlf_bom.ndjson")
        let rejects = work.path("rejects.ndjson")
        let summary = work.load(input) { $0.rejectsPath = rejects }
        #expect(summary.sources.first?.format == .ndjson)
        #expect((summary.records, summary.inserted, summary.rejected) == (5, 4, 1))
        let db = try work.database()
        let facts = try db.facts()
        #expect(facts.map(\.statement) == [
            "Einwohner(Berlin, 3669491).", "HasPart(Computer, CPU).", "LäuftAuf(Windows).",
            "Uses(NeuralReasoning, DistributedRepresentation).",
        ])
        #expect(facts[1].source == "bom")
        #expect(facts[2].confidence == 0.5)
        #expect(facts.allSatisfy { !$0.statement.contains("\r") && !$0.metadata.contains("\\r") })
        let reject = try #require(try rejectLines(rejects).first)
        #expect(reject["line"] as? Int == 6)
        #expect(reject["offset"] as? Int == 164)
        #expect(reject["record"] as? String == #"{"statement":"Broken(,"}"#)
        let ledger = try #require(try db.ledger().first)
        #expect(ledger.checkpointOffset == 269)
        #expect(ledger.checkpointLine == 8)
    }

    @Test func quotedCSVFieldsHoldDelimitersQuotesAndNewlines() throws {
        let work = try LoadWorkspace()
        let input = try work.copyFixture("cases/quoted_newlines.csv")
        let rejects = work.path("rejects.ndjson")
        let summary = work.load(input) { $0.rejectsPath = rejects }
        #expect((summary.records, summary.inserted, summary.rejected) == (5, 4, 1))
        let facts = try work.database().facts()
        #expect(facts.map(\.statement) == [
            "Fine(x).", "HasPart(Computer, CPU).", #"Says(Alice, "hi, there")."#, "Spans(a, b).",
        ])
        #expect(facts[1].confidence == 0.9)
        #expect(try jsonObject(facts[2].context) == ["source": "multi-line"])
        #expect(try jsonObject(facts[2].metadata) == ["note": "first line\nsecond line"])
        #expect(try jsonObject(facts[0].metadata) == ["note": "comma, inside"])
        // Line numbers count the newlines inside quoted fields.
        let reject = try #require(try rejectLines(rejects).first)
        #expect(reject["line"] as? Int == 8)
        #expect(reject["record"] as? String == #""Bad(,",1,{},"after three multi-line records""#)
        #expect(try work.database().ledger().first?.checkpointLine == 10)
    }

    @Test func invalidUTF8RecordIsRejectedAndTheLoadGoesOn() throws {
        let work = try LoadWorkspace()
        var bytes = Array("P(a).\n".utf8)
        bytes += Array("P(b".utf8) + [0xFF, 0xFE] + Array(").\n".utf8)
        bytes += Array("P(c, \"caf".utf8) + [0xC3] + Array("\").\n".utf8)
        bytes += Array("P(d).\n".utf8)
        let input = try work.write("mixed.txt", bytes)
        let rejects = work.path("rejects.ndjson")
        let summary = work.load(input) { $0.rejectsPath = rejects; $0.format = .text }
        #expect(summary.status == .done)
        #expect((summary.records, summary.inserted, summary.rejected) == (4, 2, 2))
        #expect(try work.database().statements() == ["P(a).", "P(d)."])
        let lines = try rejectLines(rejects)
        #expect(lines.map { $0["reason"] as? String } == ["invalid_utf8", "invalid_utf8"])
        #expect(lines.map { $0["line"] as? Int } == [2, 3])
        #expect(lines.map { $0["offset"] as? Int } == [6, 14])
        #expect((lines.first?["message"] as? String)?.contains("byte 4") == true)
    }

    @Test func oversizedRecordIsRejectedWithItsStartAndTheLoadGoesOn() throws {
        let work = try LoadWorkspace()
        let long = #"{"statement":"P(\#(String(repeating: "x", count: 5_000)))."}"#
        // Enough good records after it that the refused one is not most of the input (that fails the load).
        let after = (0..<300).map { #"{"statement":"P(c\#($0))."}"# }.joined(separator: "\n")
        let input = try work.write(
            "long.ndjson", #"{"statement":"P(a)."}"# + "\n" + long + "\n" + #"{"statement":"P(b)."}"# + "\n" + after + "\n")
        let rejects = work.path("rejects.ndjson")
        let summary = work.load(input) {
            $0.rejectsPath = rejects
            $0.limits.maxRecordBytes = 100
        }
        #expect(summary.status == .done)
        #expect((summary.records, summary.inserted, summary.rejected) == (303, 302, 1))
        #expect(try work.database().statements().prefix(2) == ["P(a).", "P(b)."])
        let reject = try #require(try rejectLines(rejects).first)
        #expect(reject["reason"] as? String == "record_too_long")
        #expect(reject["line"] as? Int == 2)
        #expect(reject["offset"] as? Int == 22)
        let record = try #require(reject["record"] as? String)
        #expect(record.utf8.count == InputReader.oversizedPrefixBytes)
        #expect(long.hasPrefix(record))
        #expect((reject["message"] as? String)?.contains("longer than 100 bytes") == true)
        #expect(try work.database().ledger().first?.checkpointLine == 304)
    }

    @Test func rejectsFileHasOneJSONLinePerRejectWithTheExactOriginalText() throws {
        let work = try LoadWorkspace()
        let records = [
            #"{"statement":"Good(a)."}"#,
            #"{"statement":"Grüße(\"quoted\", tab\there"}"#,
            #"{"statement": 42}"#,
            #"not json at all \ backslash"#,
            #"{"statement":"Good(b).","confidence":7}"#,
            #"{"predicate":"P"}"#,
            #"{"statement":"CO₂(x).","created_at":"2024-02-30"}"#,
        ]
        let text = records.joined(separator: "\n") + "\n"
        let input = try work.write("rejects-source.ndjson", text)
        let rejects = work.path("rejects.ndjson")
        let summary = work.load(input) { $0.rejectsPath = rejects }
        #expect((summary.records, summary.inserted, summary.rejected) == (7, 1, 6))
        let lines = try rejectLines(rejects)
        #expect(lines.count == 6)
        var offsets: [Int] = []
        var offset = 0
        for record in records {
            offsets.append(offset)
            offset += record.utf8.count + 1
        }
        let expected: [(line: Int, reason: String)] = [
            (2, "syntax_error"), (3, "invalid_field"), (4, "invalid_json"), (5, "invalid_confidence"),
            (6, "missing_statement"), (7, "invalid_created_at"),
        ]
        for (entry, (line, reason)) in zip(lines, expected) {
            #expect(Set(entry.keys) == ["source", "line", "offset", "reason", "message", "record"])
            #expect(entry["source"] as? String == input)
            #expect(entry["line"] as? Int == line)
            #expect(entry["offset"] as? Int == offsets[line - 1])
            #expect(entry["reason"] as? String == reason)
            #expect(entry["record"] as? String == records[line - 1])
            #expect(((entry["message"] as? String) ?? "").isEmpty == false)
        }
        #expect(try String(contentsOfFile: rejects, encoding: .utf8).hasSuffix("}\n"))
        // The sample the human summary shows is the same, in order.
        #expect(summary.sampleDiagnostics.map(\.location.line) == [2, 3, 4, 5, 6, 7])
    }

    @Test func ledgerHoldsCountsAndTheCheckpointOfACompleteLoad() throws {
        let work = try LoadWorkspace()
        let text = "P(1).\nP(2).\n# note\nP( 1 )\nbad\n\nP(3).\nP(4).\n"
        let input = try work.write("ledger.txt", text)
        let summary = work.load(input) { $0.batchSize = 2 }
        #expect((summary.records, summary.inserted, summary.duplicates, summary.rejected) == (6, 4, 1, 1))
        let db = try work.database()
        let rows = try db.ledger()
        #expect(rows.count == 1)
        let row = try #require(rows.first)
        expectLedgerAddsUp(row)
        #expect(row.source == input)
        #expect(row.sourceSize == text.utf8.count)
        #expect(row.format == "text")
        #expect(row.compression == "none")
        #expect(row.conflictPolicy == "ignore")
        #expect(row.status == "done")
        #expect(row.message == nil)
        #expect((row.records, row.inserted, row.updated, row.duplicates, row.rejected, row.warnings) == (6, 4, 0, 1, 1, 0))
        #expect(row.checkpointOffset == text.utf8.count)
        #expect(row.checkpointLine == 9)
        let finished = try #require(row.finishedAt)
        #expect(Timestamp.normalize(finished) == finished)
        #expect(finished >= row.startedAt)
        #expect(summary.sources.first?.loadID == Int64(row.id))
        #expect(try db.facts().allSatisfy { $0.loadID == row.id })
    }

    @Test func checkpointOfAFileWithoutAFinalNewlineIsItsEnd() throws {
        let work = try LoadWorkspace()
        let input = try work.write("nofinal.txt", "P(1).\nP(2).")
        _ = work.load(input)
        let row = try #require(try work.database().ledger().first)
        #expect((row.records, row.checkpointOffset, row.checkpointLine) == (2, 11, 3))
    }

    /// DESIGN 1.4: the ledger keeps each source's SHA-256, so a file already loaded is recognised by its hash.
    @Test func ledgerRecordsTheSourceSHA256() throws {
        let work = try LoadWorkspace()
        let text = "P(1).\nP(2).\n"
        let input = try work.write("hashed.txt", text)
        _ = work.load(input)
        let row = try #require(try work.database().ledger().first)
        #expect(row.sourceSHA256?.lowercased() == (try sha256sum(input)))
    }

    @Test func eachInputGetsItsOwnLedgerRowAndFactsPointToIt() throws {
        let work = try LoadWorkspace()
        let first = try work.write("a.txt", "P(1).\nP(2).\n")
        let second = try work.write("b.ndjson", #"{"statement":"P(2)."}"# + "\n" + #"{"statement":"P(3)."}"# + "\n")
        let summary = work.load([first, second])
        #expect(summary.status == .done)
        #expect((summary.records, summary.inserted, summary.duplicates) == (4, 3, 1))
        let db = try work.database()
        let rows = try db.ledger()
        #expect(rows.map(\.source) == [first, second])
        #expect(rows.map(\.format) == ["text", "ndjson"])
        #expect(rows.map(\.status) == ["done", "done"])
        #expect(rows.map(\.inserted) == [2, 1])
        #expect(rows.map(\.duplicates) == [0, 1])
        #expect(summary.sources.map(\.loadID) == rows.map { Int64($0.id) })
        let loadIDs = Dictionary(uniqueKeysWithValues: try db.facts().map { ($0.statement, $0.loadID) })
        #expect(loadIDs == ["P(1).": rows[0].id, "P(2).": rows[0].id, "P(3).": rows[1].id])
    }

    @Test func anEmptyInputLoadsNothingAndSucceeds() throws {
        let work = try LoadWorkspace()
        let empty = try work.write("empty.txt", "")
        let summary = work.load([empty])
        #expect(summary.status == .done)
        #expect(summary.records == 0)
        let rows = try work.database().ledger()
        #expect(rows.map(\.status) == ["done"])
        #expect(rows.map(\.checkpointOffset) == [0])
        #expect(rows.map(\.checkpointLine) == [1])
    }

    /// Bytes without a record are a misread input, not an empty one: not done, so not skipped later.
    @Test func aHeaderWithoutRecordsFailsTheLoad() throws {
        let work = try LoadWorkspace()
        let headerOnly = try work.write("header.csv", "statement,confidence\n")
        let summary = work.load([headerOnly])
        #expect(summary.status == .failed)
        #expect(summary.message == "\(headerOnly): no record found in its 21 bytes (nothing after the header row); "
            + "nothing was loaded")
        #expect(try work.database().ledger().map(\.status) == ["failed"])
    }

    /// factpipe's own CSV export of a database with no fact is its header alone: it loads as the empty input it
    /// is (it failed as a misread one, so the export of an empty database could not be imported).
    @Test func theHeaderOfAnEmptyCSVSnapshotAloneLoadsAsEmpty() throws {
        let work = try LoadWorkspace()
        let snapshot = try work.write("empty.csv", "statement,confidence,source,context,fact_metadata,created_at\n")
        let summary = work.load([snapshot])
        #expect(summary.status == .done, "\(summary.message ?? "")")
        #expect(summary.records == 0)
        #expect(try work.database().ledger().map(\.status) == ["done"])
    }

    /// An empty source's checkpoint is its own start, not where the source before it ended.
    @Test func emptySourceAfterAnotherHasItsOwnCheckpoint() throws {
        let work = try LoadWorkspace()
        let two = try work.write("two.txt", "P(1).\nP(2).\n")
        let empty = try work.write("empty.txt", "")
        let summary = work.load([two, empty])
        #expect(summary.status == .done)
        let rows = try work.database().ledger()
        #expect(rows.map(\.source) == [two, empty])
        #expect(rows.map(\.sourceSize) == [12, 0])
        #expect(rows.map(\.checkpointOffset) == [12, 0])
        #expect(rows.map(\.checkpointLine) == [3, 1])
    }

    @Test func aLoadIntoAnEmptyDatabaseEndsWithTheSecondaryIndexes() throws {
        let work = try LoadWorkspace()
        let input = try work.write("f.txt", (0..<500).map { "P(\($0))." }.joined(separator: "\n"))
        let summary = work.load(input) { $0.batchSize = 50 }
        #expect(summary.inserted == 500)
        #expect(try work.database().factIndexes() == ["facts_statement", "facts_subject_predicate"])
    }

    /// Only what will be read counts towards "a large load" that drops and rebuilds the secondary
    /// indexes: a run that skips a big input already loaded must leave them alone.
    @Test func aSkippedInputDoesNotMakeTheLoadRebuildTheIndexes() throws {
        let work = try LoadWorkspace()
        // Long lines: the input's size over 120 bytes a record is more than its facts.
        let padding = String(repeating: "x", count: 300)
        let big = try work.write("big.txt", (0..<40).map { "P(\($0), \(padding))." }.joined(separator: "\n"))
        #expect(work.load(big).inserted == 40)
        // Every DROP INDEX and CREATE INDEX counts up the schema version.
        let before = try work.database().int("PRAGMA schema_version")
        let again = work.load(big)
        #expect(again.skipped.count == 1)
        #expect(try work.database().int("PRAGMA schema_version") == before)
    }

    @Test func parserWorkersRestoreInputOrder() throws {
        let work = try LoadWorkspace()
        // About 1.3 MB: several chunks of 256 KiB, so workers finish them out of order.
        var lines: [String] = []
        for index in 0..<12_000 {
            if index % 7 == 3 {
                lines.append("Broken(\(index), " + String(repeating: "y", count: 80))
            } else {
                lines.append("Ordered(item\(index), " + String(repeating: "z", count: 80) + ").")
            }
        }
        let input = try work.write("ordered.txt", lines.joined(separator: "\n") + "\n")
        var outcomes: [(facts: [String], rejects: String)] = []
        for workers in [1, 4] {
            let database = work.path("ordered-\(workers).sqlite")
            let rejects = work.path("rejects-\(workers).ndjson")
            var options = ImportOptions(inputs: [input], databasePath: database)
            options.workers = workers
            options.batchSize = 1_000
            options.rejectsPath = rejects
            let summary = ImportPipeline(options: options).run()
            expectCountsAddUp(summary)
            #expect(summary.status == .done)
            #expect((summary.records, summary.rejected) == (12_000, 1_714))
            let db = try RawDatabase(database)
            let facts = try db.facts()
            // Facts are stored in statement order; every well-formed line must be there exactly once.
            let indexes = Set(facts.compactMap { Int($0.subject.dropFirst(4)) })
            #expect(indexes == Set((0..<12_000).filter { $0 % 7 != 3 }), "facts lost or doubled with \(workers) workers")
            let rejectedLines = try rejectLines(rejects).compactMap { $0["line"] as? Int }
            #expect(rejectedLines == rejectedLines.sorted())
            #expect(rejectedLines.count == 1_714)
            outcomes.append((facts.map(\.statement), try String(contentsOfFile: rejects, encoding: .utf8)))
        }
        #expect(outcomes[0].facts == outcomes[1].facts)
        #expect(outcomes[0].rejects == outcomes[1].rejects)
    }

    /// One bad record costs one record: the line that opened the quote is refused, the lines after it load.
    @Test func aQuoteNeverClosedInCSVRefusesOnlyTheLineThatOpenedIt() throws {
        let work = try LoadWorkspace()
        let input = try work.write("open.csv", "statement,note\nP(a),x\n\"P(b),y\nP(c),z\n")
        let rejects = work.path("rejects.ndjson")
        let summary = work.load(input) { $0.rejectsPath = rejects }
        #expect(summary.status == .done)
        #expect((summary.records, summary.inserted, summary.rejected) == (3, 2, 1))
        let reject = try #require(try rejectLines(rejects).first)
        #expect(reject["reason"] as? String == "invalid_csv")
        #expect(reject["line"] as? Int == 3)
        #expect((reject["message"] as? String)?.contains("not closed") == true)
        #expect(reject["record"] as? String == "\"P(b),y")
        #expect(try work.database().statements() == ["P(a).", "P(c)."])
    }

    @Test func aCSVRecordWithTheWrongNumberOfFieldsIsRefusedAndTheLoadGoesOn() throws {
        let work = try LoadWorkspace()
        let input = try work.write("fields.csv", "statement,source\nP(a),x\nP(b),y,extra\nP(c)\nP(d),z\n")
        let rejects = work.path("rejects.ndjson")
        let summary = work.load(input) { $0.rejectsPath = rejects }
        #expect((summary.records, summary.inserted, summary.rejected) == (4, 2, 2))
        #expect(try work.database().statements() == ["P(a).", "P(d)."])
        let lines = try rejectLines(rejects)
        #expect(lines.map { $0["reason"] as? String } == ["invalid_csv", "invalid_csv"])
        #expect(lines.map { $0["message"] as? String } == [
            "expected 2 fields as in the header, found 3", "expected 2 fields as in the header, found 1",
        ])
    }
}
