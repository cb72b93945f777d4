import FactPipe

extension ImportSummary {
    /// The summary as one JSON object (the `--json` output).
    var jsonObject: String {
        var fields: [(String, String)] = [
            ("status", quote(status.rawValue)),
            ("records", "\(records)"),
            ("inserted", "\(inserted)"),
            ("updated", "\(updated)"),
            ("duplicates", "\(duplicates)"),
            ("rejected", "\(rejected)"),
            ("warnings", "\(warnings)"),
            ("staged", "\(staged)"),
            ("seconds", String(format1: seconds, decimals: 3)),
            ("facts_per_second", "\(Int(factsPerSecond.rounded()))"),
            ("peak_rss_bytes", "\(peakRSSBytes)"),
            ("bytes_read", "\(bytesRead)"),
            ("interrupted", wasInterrupted ? "true" : "false"),
            ("writer_seconds", "{\"waiting\":\(String(format1: writerTimings.waiting, decimals: 3)),"
                + "\"writing\":\(String(format1: writerTimings.writing, decimals: 3)),"
                + "\"committing\":\(String(format1: writerTimings.committing, decimals: 3)),"
                + "\"merging\":\(String(format1: writerTimings.merging, decimals: 3)),"
                + "\"indexing\":\(String(format1: writerTimings.indexing, decimals: 3))}"),
        ]
        if let message { fields.append(("message", quote(message))) }
        let loads = sources.map { source in
            "{\"source\":\(quote(source.path)),\"load_id\":\(source.loadID),\"format\":\(quote(source.format.rawValue)),"
                + "\"compression\":\(quote(source.compression)),\"status\":\(quote(source.status)),"
                + "\"records\":\(source.records),\"inserted\":\(source.inserted),\"updated\":\(source.updated),"
                + "\"duplicates\":\(source.duplicates),\"rejected\":\(source.rejected),\"warnings\":\(source.warnings)}"
        }
        fields.append(("loads", "[" + loads.joined(separator: ",") + "]"))
        let skips = skipped.map { "{\"source\":\(quote($0.path)),\"reason\":\(quote($0.reason))}" }
        fields.append(("skipped", "[" + skips.joined(separator: ",") + "]"))
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    /// A short summary for people, for standard error.
    var humanText: String {
        var lines: [String] = []
        for diagnostic in sampleDiagnostics {
            // A message may quote the record; nothing in it may drive the terminal.
            let text = "\(diagnostic.location): \(diagnostic.reason.rawValue): \(diagnostic.message)"
            lines.append("  rejected " + TerminalText.escaped(text))
        }
        if rejected > sampleDiagnostics.count, !sampleDiagnostics.isEmpty {
            lines.append("  … \(Format.count(rejected - sampleDiagnostics.count)) more rejected (see --rejects FILE)")
        }
        for skip in skipped {
            lines.append("  skipped " + TerminalText.escaped("\(skip.path): \(skip.reason)"))
        }
        var head = "factpipe: \(status.rawValue): \(Format.count(records, "record")): \(Format.count(inserted)) inserted, "
            + "\(Format.count(updated)) updated, \(Format.count(duplicates, "duplicate")), "
            + "\(Format.count(rejected)) rejected, \(Format.count(warnings, "warning")) in \(Format.seconds(seconds)) s "
            + "(\(Format.count(Int(factsPerSecond))) facts/s, peak RSS \(Format.bytes(Int64(peakRSSBytes))))"
        if let message { head += "\nfactpipe: " + TerminalText.escaped(message) }
        lines.append(head)
        return lines.joined(separator: "\n")
    }

    private func quote(_ text: String) -> String { JSONQuote.quote(text) }
}
