import Foundation
import Testing

/// `factpipe stats` and `factpipe query` through the built binary, on a loaded database and on the
/// knowledge base's own database (which must come out byte for byte the same).
@Suite struct StatsQueryCommandTests {
    /// Another program's statements that are a blob, or text whose bytes are not UTF-8: the walk over the
    /// predicates steps past each (it found the same row again for ever: `stats` never ended).
    @Test func statsEndsOnStatementsThatAreBlobsOrNotUTF8() throws {
        let work = try CLIWorkspace()
        let load = try Factpipe.run(["import", try work.write("in.txt", "P(a, b).\nQ(c).\nZ(d).\n"), "--db", work.database, "-q"])
        try #require(load.status == 0, "\(load.stderr)")
        try RawDatabase(work.database).execute("""
            INSERT INTO facts(statement, predicate, subject, args, arity, created_at) VALUES
            (CAST(X'417265615F6DB228526F6F6D312C203230292E' AS TEXT), 'Area_m', 'Room1', '[]', 2, 'x'),
            (CAST('R(e).' AS BLOB), 'R', 'e', '[]', 1, 'x'),
            (CAST('S(f).' AS BLOB), 'S', 'f', '[]', 1, 'x')
            """)
        let stats = try BackgroundProcess(BinaryLocator.factpipe, ["stats", "--db", work.database, "--json"])
        let ended = poll(timeout: 30) { !stats.isRunning }
        if !ended { stats.killNine() }
        #expect(ended, "stats still running after 30 s")
        let run = try stats.wait()
        #expect(run.status == 0, "\(run.stderr)")
        let json = try run.json()
        #expect(int(json, "facts") == 6)
        let names = (json["top_predicates"] as? [[String: Any]] ?? []).compactMap { $0["predicate"] as? String }
        #expect(Set(["P", "Q", "Z"]).isSubset(of: Set(names)), "\(names)")
    }

    @Test func statsJSONOfALoadedDatabase() throws {
        let work = try CLIWorkspace()
        try work.loadKnowledgeBase()
        let run = try Factpipe.run(["stats", "--db", work.database, "--json", "--top", "3"])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try run.json()
        #expect(json["kind"] as? String == "factpipe")
        #expect(int(json, "schema_version") == 3)
        #expect(int(json, "facts") == (try SQLiteFile.int(work.database, "SELECT count(*) FROM facts")))
        #expect(
            int(json, "distinct_predicates")
                == (try SQLiteFile.int(work.database, "SELECT count(DISTINCT predicate) FROM facts")))
        let top = try #require(json["top_predicates"] as? [[String: Any]])
        #expect(top.count == 3 && top.first?["predicate"] as? String == "HasPart" && int(top[0], "facts") == 718)
        let arity = try #require(json["arity"] as? [[String: Any]])
        #expect(arity.compactMap { int($0, "facts") }.reduce(0, +) == int(json, "facts"))
        let loads = try #require(json["recent_loads"] as? [[String: Any]])
        #expect(loads.count == 1 && loads.first?["status"] as? String == "done" && int(loads[0], "rejected") == 5)
        let indexes = try #require(json["indexes"] as? [[String: Any]])
        #expect(indexes.compactMap { $0["name"] as? String }.contains("facts_subject_predicate"))
        for key in [
            "file_bytes", "wal_bytes", "page_size", "page_count", "free_pages", "free_bytes", "sources", "columns",
        ] {
            #expect(json[key] != nil, "missing \(key)")
        }
        let human = try Factpipe.run(["stats", "--db", work.database])
        #expect(human.status == 0)
        #expect(human.stdoutText.contains("facts       4,237"))
        #expect(human.stdoutText.contains("recent loads"))
    }

    @Test func statsAndQueryReadTheKnowledgeBasesDatabaseWithoutChangingIt() throws {
        let work = try CLIWorkspace()
        let path = try work.copyOfHexagonalKB()
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let stats = try Factpipe.run(["stats", "--db", path, "--json"])
        #expect(stats.status == 0, "\(stats.stderr)")
        let json = try stats.json()
        #expect(json["kind"] as? String == "foreign")
        #expect(int(json, "facts") == 4_244)
        #expect(int(json, "file_bytes") == 3_395_584)
        #expect((json["recent_loads"] as? [Any])?.isEmpty == true)
        let query = try Factpipe.run([
            "query", "--db", path, "--predicate", "HasProperty", "--subject", "BlackHole",
            "--format", "ndjson", "--limit", "0",
        ])
        #expect(query.status == 0, "\(query.stderr)")
        let statements = try ndjsonObjects(query).compactMap { $0["statement"] as? String }
        #expect(statements.contains("HasProperty(BlackHole, EventHorizon)."), "a row whose part columns are empty")
        #expect(statements.allSatisfy { $0.hasPrefix("HasProperty(BlackHole, ") })
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(try work.listing("hexagonal") == ["kb.db"])
    }

    /// The knowledge base stores some statements in its own spelling; `--statement` given in any spelling
    /// finds them (it compared the canonical form with the stored text, and said "no facts matched").
    @Test func queryByStatementFindsAFactTheKnowledgeBaseSpellsItsOwnWay() throws {
        let work = try CLIWorkspace()
        let path = try work.copyOfHexagonalKB()
        for spelling in ["HasPart(ImmanuelKant,ThingInItself).", "HasPart(ImmanuelKant, ThingInItself)", "HasPart( ImmanuelKant ,ThingInItself )."] {
            let query = try Factpipe.run(["query", "--db", path, "--statement", spelling, "--format", "ndjson"])
            #expect(query.status == 0, "\(query.stderr)")
            let statements = try ndjsonObjects(query).compactMap { $0["statement"] as? String }
            #expect(statements == ["HasPart(ImmanuelKant,ThingInItself)."], "\(spelling): \(statements)")
        }
        let none = try Factpipe.run(["query", "--db", path, "--statement", "HasPart(ImmanuelKant, Nothing).", "--format", "ndjson"])
        #expect(try ndjsonObjects(none).isEmpty)
    }

    /// Another program's rows without predicate or subject columns filled in, spelled their own way (runs
    /// of spaces, a no-break space, a tab, a leading space): every filter finds what `stats` counts under
    /// that predicate and subject, as the grammar reads the statement. A text search and a range from `P(`
    /// on the stored text found 1 of 3 for `Red Fox`, none for `Gray Wolf`.
    @Test func queryFiltersOnAnotherProgramsDatabaseFindEverySpelling() throws {
        let work = try CLIWorkspace()
        let path = work.path("kb.db")
        try Factpipe.tool("/usr/bin/sqlite3", [path, """
            CREATE TABLE facts(statement TEXT PRIMARY KEY, predicate TEXT, subject TEXT, object TEXT);
            INSERT INTO facts(statement) VALUES ('IsA(Red  Fox, Animal).'), ('IsA(Red' || char(160) || 'Fox, Mammal).'),
              ('HasPart(Red Fox, Tail).'), ('IsA(Gray' || char(9) || 'Wolf, Animal).'), (' IsA(Badger, Animal).');
            INSERT INTO facts(statement, predicate, subject, object) VALUES ('IsA(Cat, Animal).', 'IsA', 'Cat', 'Animal'),
              ('IsA(Dog, Animal).', 'Other', 'Dog', 'Animal');
            """])
        func found(_ arguments: [String]) throws -> [String] {
            let run = try Factpipe.run(["query", "--db", path, "--format", "ndjson", "--limit", "0"] + arguments)
            #expect(run.status == 0, "\(arguments): \(run.stderr)")
            return try ndjsonObjects(run).compactMap { $0["statement"] as? String }.sorted()
        }
        #expect(try found(["--subject", "Red Fox"]).count == 3)
        #expect(try found(["--subject", "Gray Wolf"]) == ["IsA(Gray\tWolf, Animal)."])
        #expect(try found(["--statement", "IsA(Badger, Animal)"]) == [" IsA(Badger, Animal)."])
        // The stored column, where there is one, is what the row says: `Other` is the dog's predicate.
        #expect(try found(["--predicate", "IsA"]).count == 5)
        #expect(try found(["--predicate", "Other"]) == ["IsA(Dog, Animal)."])
        #expect(try found(["--object", "Animal", "--predicate", "IsA"]).count == 4)
    }

    /// Columns filled in, but spelled otherwise than the canonical form (decomposed letters, a run of
    /// spaces, a leading space): each lookup compared the stored text with the canonical one and left those
    /// rows out, while `stats` counted them (and counted `Big  Cat` apart from `Big Cat`).
    @Test func queryAndStatsReadAnotherProgramsColumnsInCanonicalForm() throws {
        let work = try CLIWorkspace()
        let path = work.path("kb.db")
        let laeuft = "La\u{0308}uft", aepfel = "A\u{0308}pfel"
        try Factpipe.tool("/usr/bin/sqlite3", [path, """
            CREATE TABLE facts(id INTEGER PRIMARY KEY, statement TEXT, predicate TEXT, subject TEXT, object TEXT);
            CREATE INDEX facts_subject ON facts(subject);
            INSERT INTO facts(statement, predicate, subject, object) VALUES
              ('Läuft(Motor, Strom).', '\(laeuft)', 'Motor', 'Strom'), ('Läuft(Pumpe, Wasser).', 'Läuft', 'Pumpe', 'Wasser'),
              ('HasPart(Äpfel, Kern).', 'HasPart', '\(aepfel)', 'Kern'), ('IsA(Kern, Äpfel).', 'IsA', 'Kern', '\(aepfel)'),
              ('HasPart(Big Cat, Tail).', 'HasPart', 'Big  Cat', 'Tail'), ('HasPart(Big Cat, Paw).', 'HasPart', 'Big Cat', 'Paw'),
              ('IsA(Tom, Big Cat).', 'IsA', 'Tom', ' Big Cat'), ('IsA(Rex, Dog).', 'IsA', 'Rex', 'Dog');
            """])
        func found(_ arguments: [String]) throws -> [String] {
            let run = try Factpipe.run(["query", "--db", path, "--format", "ndjson", "--limit", "0"] + arguments)
            #expect(run.status == 0, "\(arguments): \(run.stderr)")
            return try ndjsonObjects(run).compactMap { $0["statement"] as? String }.sorted()
        }
        #expect(try found(["--predicate", "Läuft"]) == ["Läuft(Motor, Strom).", "Läuft(Pumpe, Wasser)."])
        #expect(try found(["--subject", "Äpfel"]) == ["HasPart(Äpfel, Kern)."])
        #expect(try found(["--object", "Äpfel"]) == ["IsA(Kern, Äpfel)."])
        #expect(try found(["--subject", "Big Cat"]) == ["HasPart(Big Cat, Paw).", "HasPart(Big Cat, Tail)."])
        #expect(try found(["--object", "Big Cat"]) == ["IsA(Tom, Big Cat)."])
        #expect(try found(["--subject", "Rex", "--object", "Dog"]) == ["IsA(Rex, Dog)."])
        let stats = try Factpipe.run(["stats", "--db", path, "--json"])
        let json = try stats.json()
        #expect(int(json, "distinct_subjects") == 7, "\(json)")
        let top = try #require(json["top_predicates"] as? [[String: Any]])
        #expect(top.first { $0["predicate"] as? String == "Läuft" }?["facts"] as? Int == 2, "\(top)")
    }

    @Test func queryPrintsAnAlignedTableNDJSONOrCSV() throws {
        let work = try CLIWorkspace()
        try work.loadKnowledgeBase()
        let table = try Factpipe.run(["query", "--db", work.database, "--subject", "Computer", "--object", "CPU"])
        #expect(table.status == 0, "\(table.stderr)")
        let lines = table.stdoutText.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines.first?.hasPrefix("  id  statement") == true, "\(lines)")
        #expect(!table.stdoutText.contains("\u{1B}["), "no color when standard output is not a terminal")
        let column = try #require(lines.first?.range(of: "confidence")).upperBound.utf16Offset(in: lines[0])
        for line in lines.dropFirst() {
            #expect(line.contains("(Computer, CPU)."))
            #expect(line.utf16.count >= column && Array(line.utf16)[column - 1] != 0x20, "right-aligned: \(line)")
        }
        #expect(table.stderr.contains("2 facts"))
        // Past the first thousand rows the table streams with the widths those set.
        let all = try Factpipe.run(["query", "--db", work.database, "--limit", "0"])
        let allLines = all.stdoutText.split(separator: "\n")
        #expect(allLines.count == 4_237 + 1)
        #expect(allLines.dropFirst().allSatisfy { $0.prefix(4).allSatisfy(\.isNumber) || $0.first == " " })
        #expect(Set(allLines.map { $0.dropFirst(4).prefix(2) }) == ["  "], "ids right-aligned in four columns")

        let ndjson = try Factpipe.run([
            "query", "--db", work.database, "--statement", "HasPart( Computer ,CPU )",
            "--format", "ndjson",
        ])
        let objects = try ndjsonObjects(ndjson)
        #expect(objects.count == 1 && objects.first?["statement"] as? String == "HasPart(Computer, CPU).")
        #expect(objects.first?["context"] is [String: Any] && objects.first?["created_at"] is String)

        let csv = try Factpipe.run([
            "query", "--db", work.database, "--predicate", "IsA", "--format", "csv", "--limit", "5",
        ])
        let rows = csv.stdoutText.split(separator: "\n")
        #expect(rows.first == "statement,confidence,source,context,fact_metadata,created_at")
        #expect(rows.count == 6)
        // What query prints, import reads: the CSV loads into a new database as the same five facts.
        let file = try work.write("five.csv", csv.stdout)
        let again = try Factpipe.run(["import", file, "--db", work.path("again.sqlite"), "--json", "-q"])
        let summary = try again.json()
        #expect(int(summary, "inserted") == 5 && int(summary, "rejected") == 0)
    }

    /// A statement loaded under raised limits is found by it (it was refused, 64, by the default limits).
    @Test func queryFindsAStatementLoadedUnderRaisedLimits() throws {
        let work = try CLIWorkspace()
        let wide = "R(a, b, c, d, e, f, g, h, i, j, k, l)."
        let input = try work.write("in.txt", wide + "\n")
        #expect(try Factpipe.run(["import", input, "--db", work.database, "--max-args", "20", "-q"]).status == 0)
        let found = try Factpipe.run(["query", "--db", work.database, "--statement", wide, "--format", "ndjson"])
        #expect(found.status == 0, "\(found.stderr)")
        #expect(found.stdoutText.contains(#""statement":"R(a, b, c, d, e, f, g, h, i, j, k, l).""#), "\(found.stdoutText)")
    }

    /// Values only another program's SQL writes — a confidence that is text or infinite, a source that is
    /// not UTF-8 — were printed as NDJSON and CSV that loaded back as other facts (confidence 0, U+FFFD).
    /// They are refused there, naming the fact, as `export` refuses them; the table still shows them.
    @Test func queryRefusesToPrintAsNDJSONOrCSVWhatWouldNotLoadBack() throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", "P(a, b).\nP(c, d).\nP(e, f).\nP(g, h).\nP(i, j).\nP(k, l).\nP(m, n).\n")
        #expect(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 0)
        // The last three read as what they are, but import refuses them (query printed them, exit 0).
        try RawDatabase(work.database).execute("""
            UPDATE facts SET source = CAST(X'41FF42' AS TEXT) WHERE statement = 'P(a, b).';
            UPDATE facts SET confidence = 'abc' WHERE statement = 'P(c, d).';
            UPDATE facts SET confidence = 1e400 WHERE statement = 'P(e, f).';
            UPDATE facts SET confidence = -3 WHERE statement = 'P(i, j).';
            UPDATE facts SET created_at = 'yesterday' WHERE statement = 'P(k, l).';
            UPDATE facts SET fact_metadata = '[]' WHERE statement = 'P(m, n).';
            """)
        let cases: [(String, String)] = [
            ("P(a, b)", "P(a, b).: its source is not UTF-8 text, so its"),
            ("P(c, d)", #"P(c, d).: its confidence is the text "abc", not a number, so its"#),
            ("P(e, f)", "P(e, f).: its confidence is inf, not a finite number, so its"),
            ("P(i, j)", "P(i, j).: its confidence is -3.0, outside 0…1, so its"),
            ("P(k, l)", #"P(k, l).: its created_at "yesterday" is not a time import reads, so its"#),
            ("P(m, n)", "P(m, n).: its fact_metadata is not a JSON object, so its"),
        ]
        for (statement, words) in cases {
            for format in ["ndjson", "csv"] {
                let run = try Factpipe.run(["query", "--db", work.database, "--statement", statement, "--format", format])
                #expect(run.status == 1, "\(statement) \(format): \(run.stderr)")
                #expect(run.stderr.contains(words + " \(format) would not load back as the same fact"), "\(run.stderr)")
                #expect(!run.stdoutText.contains(statement), "\(run.stdoutText)")
            }
        }
        let clean = try Factpipe.run(["query", "--db", work.database, "--statement", "P(g, h)", "--format", "ndjson"])
        #expect(clean.status == 0 && clean.stdoutText.contains("P(g, h)."), "\(clean.stderr)")
        let table = try Factpipe.run(["query", "--db", work.database])
        #expect(table.status == 0 && table.stderr.contains("7 facts"), "\(table.stderr)")
        // The table shows a confidence that is no number as it is stored (it showed "abc" as 0.0).
        let row = table.stdoutText.split(separator: "\n").first { $0.contains("P(c, d).") } ?? ""
        #expect(row.contains(" abc ") && !row.contains("0.0"), "\(table.stdoutText)")
        try RawDatabase(work.database).execute("UPDATE facts SET confidence = X'0102' WHERE statement = 'P(c, d).'")
        let blob = try Factpipe.run(["query", "--db", work.database, "--statement", "P(c, d)"])
        #expect(blob.stdoutText.contains("<BLOB of 2 bytes>"), "\(blob.stdoutText)")

        // Another program's rows: no statement, a time import does not read (written as "" and "yesterday").
        let other = work.path("other.db")
        try Factpipe.tool("/usr/bin/sqlite3", [other, """
            CREATE TABLE facts(statement TEXT, confidence REAL, created_at TEXT);
            INSERT INTO facts VALUES (NULL, 1, NULL), ('IsA(g, h).', 1, 'yesterday'), ('IsA(i, j).', 1, '2025-01-02T03:04:05Z');
            """])
        // Such a table gives no id: the message names the row by what it has ("fact  : …" named nothing).
        for (arguments, words) in [(["--limit", "1"], "query: error: a fact: it has no statement, so its ndjson"),
                                   (["--statement", "IsA(g, h)"],
                                    #"a fact IsA(g, h).: its created_at "yesterday" is not a time import reads"#)] {
            let run = try Factpipe.run(["query", "--db", other, "--format", "ndjson"] + arguments)
            #expect(run.status == 1, "\(arguments): \(run.stderr)")
            #expect(run.stderr.contains(words), "\(run.stderr)")
        }
        let good = try Factpipe.run(["query", "--db", other, "--statement", "IsA(i, j)", "--format", "ndjson"])
        #expect(good.status == 0 && good.stdoutText.contains("2025-01-02T03:04:05Z"), "\(good.stderr)")
    }

    @Test func queryRefusesWhatIsNotAStatementAndSaysWhenNothingMatched() throws {
        let work = try CLIWorkspace()
        try work.loadKnowledgeBase()
        let bad = try Factpipe.run(["query", "--db", work.database, "--statement", "free text"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("--statement is not a statement"))
        let none = try Factpipe.run(["query", "--db", work.database, "--subject", "Nobody"])
        #expect(none.status == 0 && none.stdout.isEmpty && none.stderr.contains("no facts matched"))
        let missing = try Factpipe.run(["query", "--db", work.path("missing.sqlite")])
        #expect(missing.status == 1 && missing.stderr.contains("factpipe query: error:"))
        #expect(!FileManager.default.fileExists(atPath: work.path("missing.sqlite")))
    }
}
