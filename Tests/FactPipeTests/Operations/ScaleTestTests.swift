import Foundation
import Testing

@testable import FactPipe

/// `ScaleTest` at 5,000 facts and a few hundred queries per pattern, and the memory mark it resets.
///
/// Serialized: the high-water mark is the process's, so two tests that reset it must not overlap.
@Suite(.serialized) struct ScaleTestTests {
    @Test func itLoadsTheFactsTimesEveryPatternAndCleansUp() throws {
        let work = try LoadWorkspace()
        var options = ScaleTestOptions(facts: 5_000, queries: 301)
        options.workingDirectory = work.directory.url.path
        var phases: [String] = []
        let result = try ScaleTest(options: options).run { phases.append($0) }
        #expect(phases.count == 3)
        #expect(result.load.status == .done)
        #expect(result.load.records == 5_000 && result.load.rejected == 0)
        #expect(result.load.inserted + result.load.duplicates == 5_000)
        #expect(result.load.inserted > 4_900)
        #expect(result.load.factsPerSecond > 0)
        #expect(result.inputBytes > 100_000)
        #expect(result.patterns.map(\.pattern) == QueryPattern.allCases)
        for pattern in result.patterns {
            #expect(pattern.queries == 301)
            #expect(pattern.existingKeys == 151)
            #expect(pattern.found == pattern.existingKeys, "\(pattern.pattern): every existing key is found")
            #expect(pattern.missingFound == 0, "\(pattern.pattern): no missing key is found")
            let figures = pattern.figures
            #expect(figures.count == 301)
            #expect(0 < figures.p50 && figures.p50 <= figures.p95 && figures.p95 <= figures.p99)
            #expect(figures.p99 <= figures.maximum && figures.maximum <= figures.sumSeconds)
        }
        #expect(result.databaseBytes > 500_000)
        #expect(result.peakRSSBytes >= result.loadPeakRSSBytes && result.loadPeakRSSBytes > 10_000_000)
        #expect(!result.isDatabaseKept)
        #expect(try folderListing(work.directory.url.path).isEmpty, "input, database and folder are gone")
    }

    @Test func aKeptDatabaseHoldsTheLoadedFactsAndTheJSONHasEveryKey() throws {
        let work = try LoadWorkspace()
        var options = ScaleTestOptions(facts: 2_000, queries: 20)
        options.workingDirectory = work.directory.url.path
        options.databasePath = work.databasePath
        let result = try ScaleTest(options: options).run()
        #expect(result.isDatabaseKept)
        #expect(try work.database().int("SELECT count(*) FROM facts") == result.load.inserted)
        #expect(try folderListing(work.directory.url.path).filter { !$0.hasPrefix("facts.sqlite") }.isEmpty)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(result.json.text.utf8)) as? [String: Any])
        for key in ["facts_per_second", "peak_rss_bytes", "db_bytes", "load_peak_rss_bytes", "records", "inserted"] {
            #expect(object[key] is Int || object[key] is Double, "\(key)")
        }
        #expect(object["database"] as? String == work.databasePath)
        let patterns = try #require(object["patterns"] as? [String: [String: Any]])
        #expect(Set(patterns.keys) == ["predicate_subject", "subject", "statement", "count_by_predicate"])
        for (name, figures) in patterns {
            for key in ["p50_ms", "p95_ms", "p99_ms", "max_ms"] { #expect(figures[key] is Double, "\(name) \(key)") }
            #expect(figures["found"] as? Int == 10, "\(name)")
        }
        let report = result.runReport
        #expect(report.command == "scale-test")
        #expect(report.queryLatencies.map(\.pattern) == QueryPattern.allCases.map(\.rawValue))
        // A second run refuses to load into a database that holds data.
        #expect {
            try ScaleTest(options: options).run()
        } throws: { error in
            guard case .databaseExists(let path) = error as? ScaleTestError else { return false }
            return path == work.databasePath
        }
    }

    // Not under AddressSanitizer (scripts/sanitize): freed memory waits in its quarantine instead of
    // going back to the kernel, so the resident size cannot drop.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["FACTPIPE_SANITIZER"] != "address"))
    func aResetForgetsAPeakThatIsOver() throws {
        let size = 96 << 20
        do {
            var block = [UInt8](repeating: 0, count: size)
            for index in stride(from: 0, to: size, by: 4_096) { block[index] = 1 }
            #expect(block[4_096] == 1)
        }
        let withPeak = ResourceUsage.peakRSSBytes()
        #expect(withPeak >= size)
        #if os(Linux)
            // The process's peak is the mark the reset starts afresh (`VmHWM`): whoever needs the earlier one
            // reads it first.
            try #require(MemoryHighWaterMark.reset())
            #expect(ResourceUsage.peakRSSBytes() < withPeak - (32 << 20), "the 96 MiB block was freed before")
        #endif
    }
}
