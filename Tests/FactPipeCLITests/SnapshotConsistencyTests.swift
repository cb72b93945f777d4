import Foundation
import Testing

/// `export` while `import` loads into the same database in another process.
@Suite struct SnapshotConsistencyTests {
    @Test func exportsDuringALoadEachSeeTheDatabaseAtOneCommittedMoment() throws {
        let work = try CLIWorkspace()
        // A first load, so the database exists with facts before the second starts.
        let base = try work.write(
            "base.ndjson", try Factpipe.run(["generate", "--facts", "2000", "--seed", "1", "--quiet"]).stdout)
        try work.loadFacts(base)
        let baseCount = try SQLiteFile.int(work.database, "SELECT count(*) FROM facts")
        // Four sources: each one's facts become visible when its merge commits. The load is larger than
        // the table, so its first source appends straight to `facts`, visible batch by batch: a small
        // one, a single batch, goes first.
        let first = work.path("part1.ndjson")
        let small = try Factpipe.run(["generate", "--facts", "200", "--seed", "6", "-o", first, "--quiet"])
        try #require(small.status == 0)
        var inputs = [first]
        for seed in 2...5 {
            let path = work.path("part\(seed).ndjson")
            let made = try Factpipe.run(["generate", "--facts", "50000", "--seed", "\(seed)", "-o", path, "--quiet"])
            try #require(made.status == 0)
            inputs.append(path)
        }

        let load = Process()
        load.executableURL = BinaryLocator.factpipe
        load.arguments = ["import"] + inputs + ["--db", work.database, "--batch-size", "1000", "--json", "--quiet"]
        let summaryPath = work.path("load.json")
        _ = FileManager.default.createFile(atPath: summaryPath, contents: nil)
        let summaryHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: summaryPath))
        load.standardOutput = summaryHandle
        load.standardError = FileHandle.nullDevice
        try load.run()
        var snapshots: [String] = []
        var duringLoad = 0
        while load.isRunning {
            let path = work.path("snap\(snapshots.count).ndjson.zst")
            let run = try Factpipe.run(["export", "--db", work.database, "-o", path, "--quiet"])
            #expect(run.status == 0, "\(run.stderr)")
            if load.isRunning { duringLoad += 1 }
            snapshots.append(path)
        }
        load.waitUntilExit()
        try summaryHandle.close()
        // And one after the load, which must see all of it.
        let last = work.path("snap-final.ndjson.zst")
        #expect(try Factpipe.run(["export", "--db", work.database, "-o", last, "--quiet"]).status == 0)
        snapshots.append(last)
        #expect(load.terminationStatus == 0)
        #expect(duringLoad >= 1, "no export finished while the load was running")

        // The counts the database had at its commits: before the load, then after each source's merge.
        let summary = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: summaryPath)))
                as? [String: Any])
        let loads = try #require(summary["loads"] as? [[String: Any]])
        var committed = [baseCount]
        for entry in loads { committed.append((committed.last ?? 0) + (int(entry, "inserted") ?? 0)) }
        let final = Set(try SQLiteFile.strings(work.database, "SELECT statement FROM facts"))
        #expect(final.count == committed.last)

        var seenCounts: [Int] = []
        for path in snapshots {
            let verify = try Factpipe.run(["verify", path, "--json"])
            let report = try verify.json()
            let manifest = try #require(report["manifest"] as? [String: Any])
            #expect(verify.status == 0 && int(report, "facts") == int(manifest, "fact_count"), "\(report)")
            let lines = try Factpipe.tool("/usr/bin/zstd", ["-d", "-q", "-c", path]).stdoutText.split(separator: "\n")
            var statements = Set<String>()
            for line in lines {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                statements.insert(try #require(object["statement"] as? String))
            }
            #expect(statements.count == lines.count, "a statement appears twice in \(path)")
            #expect(lines.count == int(manifest, "fact_count"))
            #expect(committed.contains(lines.count), "\(lines.count) facts is not a committed state \(committed)")
            #expect(statements.isSubset(of: final))
            seenCounts.append(lines.count)
        }
        // The load's sources take seconds each: some snapshot caught it half-way, between two commits.
        let before = committed[0]
        let after = committed[committed.count - 1]
        #expect(seenCounts.contains { $0 > before && $0 < after }, "counts \(seenCounts), committed \(committed)")
        #expect(seenCounts.last == committed.last)
        #expect(seenCounts == seenCounts.sorted(), "a later snapshot saw fewer facts: \(seenCounts)")
    }
}
