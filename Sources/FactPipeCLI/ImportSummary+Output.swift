import FactPipe

extension ImportSummary {
    /// The summary as one JSON object (the `--json` output).
    var jsonDocument: JSONDocument {
        var members: [JSONDocument.Member] = [
            .init("status", .string(status.rawValue)),
            .init("records", .int(records)),
            .init("inserted", .int(inserted)),
            .init("updated", .int(updated)),
            .init("duplicates", .int(duplicates)),
            .init("rejected", .int(rejected)),
            .init("rejected_before_resume", .int(rejectedBeforeResume)),
            .init("deleted_by_undo", .int(deletedByUndo)),
            .init("warnings", .int(warnings)),
            .init("staged", .int(staged)),
            .init("seconds", .fixed(seconds, decimals: 3)),
            .init("facts_per_second", .int(Int(factsPerSecond.rounded()))),
            .init("peak_rss_bytes", .int(peakRSSBytes)),
            .init("bytes_read", .int(Int(bytesRead))),
            .init("interrupted", .bool(wasInterrupted)),
            .init("writer_seconds", [
                "waiting": .fixed(writerTimings.waiting, decimals: 3),
                "writing": .fixed(writerTimings.writing, decimals: 3),
                "committing": .fixed(writerTimings.committing, decimals: 3),
                "merging": .fixed(writerTimings.merging, decimals: 3),
                "indexing": .fixed(writerTimings.indexing, decimals: 3),
            ]),
        ]
        if let message { members.append(.init("message", .string(message))) }
        let loads = sources.map { source -> JSONDocument in
            [
                "source": .string(source.path), "load_id": .int(Int(source.loadID)),
                "format": .string(source.format.rawValue), "compression": .string(source.compression.rawValue),
                "status": .string(source.status.rawValue), "records": .int(source.records), "inserted": .int(source.inserted),
                "updated": .int(source.updated), "duplicates": .int(source.duplicates),
                "rejected": .int(source.rejected), "warnings": .int(source.warnings),
            ]
        }
        members.append(.init("loads", .array(loads)))
        let skips = skipped.map { skip -> JSONDocument in
            ["source": .string(skip.path), "reason": .string(skip.reason)]
        }
        members.append(.init("skipped", .array(skips)))
        let untried = notTried.map { input -> JSONDocument in
            ["source": .string(input.path), "reason": .string(input.reason)]
        }
        members.append(.init("not_tried", .array(untried)))
        members.append(.init("notes", .array(notes.map { .string($0) })))
        return .object(members)
    }

    /// `jsonDocument` as compact JSON text, with the command's name and exit code (as every command's
    /// `--json` object has them).
    func jsonObject(exitCode: Int32) -> String {
        guard case .object(let members) = jsonDocument else { return jsonDocument.text }
        return JSONDocument.object([.init("command", .string("import"))] + members + [.init("exit_code", .int(Int(exitCode)))]).text
    }

    /// Why the load stopped, alone: what `--quiet` still prints (it leaves out the summary, not the
    /// reason a job failed). Nil when the load finished.
    var failureText: String? {
        guard status != .done, let message else { return nil }
        return "factpipe: " + TerminalText.escaped(message)
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
        for input in notTried {
            lines.append("  not tried " + TerminalText.escaped("\(input.path): \(input.reason)"))
        }
        for note in notes {
            lines.append("  note " + TerminalText.escaped(note))
        }
        // A load that stopped counts what it committed: the batch it stopped in was rolled back, the refusal
        // that ran out `--max-errors` with it ("0 rejected" under the message quoting that refusal read as a lie).
        // One whose damaged input had it undone took back what it committed: its counts say what it did, and the
        // head says they are gone (the counts alone, under "failed", read as facts in the database).
        let counted = status == .done ? ""
            : deletedByUndo > 0 ? " committed, then undone (\(Format.count(deletedByUndo, "fact")) deleted again)"
            : " committed"
        var head = "factpipe: \(status.rawValue): \(Format.count(records, "record"))\(counted): "
            + "\(Format.count(inserted)) inserted, "
            + "\(Format.count(updated)) updated, \(Format.count(duplicates, "duplicate")), "
            + "\(Format.count(rejected)) rejected, \(Format.count(warnings, "warning")) in \(Format.seconds(seconds)) s "
            + "(\(Format.count(Int(factsPerSecond))) facts/s, peak RSS \(Format.bytes(Int64(peakRSSBytes))))"
        if let message { head += "\nfactpipe: " + TerminalText.escaped(message) }
        lines.append(head)
        return lines.joined(separator: "\n")
    }
}
