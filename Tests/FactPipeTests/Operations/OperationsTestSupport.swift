import Foundation
import Testing

@testable import FactPipe

/// A workspace whose database holds the knowledge base's facts, loaded from `kb_facts.ndjson`.
func loadedKnowledgeBase(sourceLocation: SourceLocation = #_sourceLocation) throws -> LoadWorkspace {
    let work = try LoadWorkspace()
    let summary = work.load(fixtureURL("hakgal/kb_facts.ndjson").path, sourceLocation: sourceLocation)
    try #require(summary.status == .done && summary.inserted > 4_000, "\(summary)", sourceLocation: sourceLocation)
    return work
}

/// The knowledge base's own `hexagonal_kb.db`, copied alone into a folder of `work`, so that any
/// file SQLite might leave beside it would show.
func copyOfHexagonalKB(in work: LoadWorkspace) throws -> String {
    let folder = work.path("hexagonal")
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let target = folder + "/hexagonal_kb.db"
    try copyKnowledgeBaseDatabase(to: target)
    return target
}

/// Writes the knowledge base's `hexagonal_kb.db` (2025-09-15, kept zstd-compressed in Fixtures) to `path`.
func copyKnowledgeBaseDatabase(to path: String) throws {
    let zstd = Process()
    zstd.executableURL = URL(fileURLWithPath: "/usr/bin/zstd")
    zstd.arguments = ["-d", "-q", "-f", fixtureURL("hakgal/hexagonal_kb-2025-09-15.db.zst").path, "-o", path]
    try zstd.run()
    zstd.waitUntilExit()
    try #require(zstd.terminationStatus == 0, "zstd -d of the knowledge base's database failed")
}

/// The bytes of a file, to compare before and after.
func fileContents(_ path: String) throws -> Data {
    try Data(contentsOf: URL(fileURLWithPath: path))
}

/// The names in a folder, sorted.
func folderListing(_ folder: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
}

/// A Prometheus text exposition read back: every sample, and the HELP and TYPE of each family.
struct ParsedMetrics {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    var samples: [Sample] = []
    var help: [String: String] = [:]
    var types: [String: String] = [:]

    /// Parses `text`, failing on any line that is not a comment or `name{labels} value`, and on a
    /// sample whose family has no HELP and TYPE before it.
    init(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(text.hasSuffix("\n"), "ends with a line feed", sourceLocation: sourceLocation)
        let name = #"[a-zA-Z_:][a-zA-Z0-9_:]*"#
        let sampleLine = try Regex(#"^(\#(name))(\{([^}]*)\})? (\S+)$"#)
        let labelPair = try Regex(#"([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)""#)
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst(7).split(separator: " ", maxSplits: 1).map(String.init)
                try #require(parts.count == 2, "\(line)", sourceLocation: sourceLocation)
                if line.hasPrefix("# HELP ") { help[parts[0]] = parts[1] } else { types[parts[0]] = parts[1] }
                continue
            }
            let match = try #require(
                try sampleLine.wholeMatch(in: String(line)), "bad line: \(line)",
                sourceLocation: sourceLocation)
            let metric = String(try #require(match.output[1].substring))
            var labels: [String: String] = [:]
            if let body = match.output[3].substring {
                for pair in String(body).matches(of: labelPair) {
                    labels[String(pair.output[1].substring ?? "")] = String(pair.output[2].substring ?? "")
                }
            }
            let valueText = String(try #require(match.output[4].substring))
            let value = try #require(
                valueText == "+Inf" ? Double.infinity : valueText == "-Inf" ? -Double.infinity : Double(valueText),
                "bad value: \(line)", sourceLocation: sourceLocation)
            let family = [metric, metric.replacing(/_(sum|count)$/, with: "")].first { types[$0] != nil }
            let declared = try #require(family, "no TYPE before \(metric)", sourceLocation: sourceLocation)
            #expect(help[declared] != nil, "no HELP for \(declared)", sourceLocation: sourceLocation)
            samples.append(Sample(name: metric, labels: labels, value: value))
        }
    }

    /// The value of the one sample with this name and these labels.
    func value(_ name: String, _ labels: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation)
        throws -> Double
    {
        let matching = samples.filter { $0.name == name && $0.labels == labels }
        try #require(matching.count == 1, "\(name)\(labels): \(matching.count) samples", sourceLocation: sourceLocation)
        return matching[0].value
    }
}
