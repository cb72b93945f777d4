import Foundation
import Testing

/// A Prometheus text exposition read back: every sample, and the HELP and TYPE of each family. The
/// tests' one reader of the files `--metrics-file` writes and of `RunReport.prometheusText`.
public struct ParsedMetrics {
    public struct Sample: Equatable {
        public var name: String
        public var labels: [String: String]
        public var value: Double
        /// The sample as written before its value: `name` or `name{label="value",…}`.
        public var key: String
    }

    public var samples: [Sample] = []
    public var help: [String: String] = [:]
    public var types: [String: String] = [:]

    /// Parses `text`, failing on any line that is not a HELP or TYPE comment or `name{labels} value`,
    /// and on a sample whose family has no HELP and TYPE before it.
    public init(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
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
            #expect(help[declared] != nil, "no HELP before \(declared)", sourceLocation: sourceLocation)
            let key = metric + String(match.output[2].substring ?? "")
            samples.append(Sample(name: metric, labels: labels, value: value, key: key))
        }
    }

    /// The value of the one sample with this name and these labels.
    public func value(
        _ name: String, _ labels: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> Double {
        let matching = samples.filter { $0.name == name && $0.labels == labels }
        try #require(matching.count == 1, "\(name)\(labels): \(matching.count) samples", sourceLocation: sourceLocation)
        return matching[0].value
    }

    /// The value of the sample written as `key` (`name` or `name{label="value",…}`, labels in the
    /// order the text has them), or nil when there is none.
    public subscript(key: String) -> Double? {
        samples.first { $0.key == key }?.value
    }
}
