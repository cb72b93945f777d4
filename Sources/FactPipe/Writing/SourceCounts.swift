/// What the counts of one source say, and how a load's sources add up to its summary.
extension LoadLedger.Counts {
    /// Records committed but neither stored nor rejected yet: they wait in the staging table for a merge.
    var unmerged: Int { records - inserted - updated - duplicates - rejected }

    /// What was counted after `base` (a resumed source's counts from before this run are not counted
    /// again); the checkpoint and rejects offset stay this one's.
    func since(_ base: Self) -> Self {
        var delta = self
        delta.records -= base.records
        delta.inserted -= base.inserted
        delta.updated -= base.updated
        delta.duplicates -= base.duplicates
        delta.rejected -= base.rejected
        delta.warnings -= base.warnings
        return delta
    }

    /// Counts a segment's records, rejects and warnings, and moves the checkpoint to its end.
    mutating func count(_ segment: FactSegment) {
        records += segment.records
        rejected += segment.rejects.count
        warnings += segment.warnings
        checkpointOffset = segment.checkpointOffset
        checkpointLine = segment.checkpointLine
    }

    /// Adds what a merge of the staged records did.
    mutating func add(_ merged: StagingArea.MergeResult) {
        inserted += merged.inserted
        updated += merged.updated
        duplicates += merged.duplicates
    }
}

/// One source of a load once the writer is done with it: its ledger row, how it ended, and what this
/// run counted for it.
struct FinishedSource {
    var descriptor: SourceDescriptor
    var loadID: Int64
    /// The ledger's counts at the end (a resumed source's include its earlier runs).
    var counts: LoadLedger.Counts
    var status: LoadLedger.Status
    /// The ledger's counts when this run began it (zero for a new source).
    var base = LoadLedger.Counts()

    /// What this run did for the source.
    var delta: LoadLedger.Counts { counts.since(base) }

    /// The summary's line for this source.
    var summarySource: ImportSummary.Source {
        let delta = delta
        return ImportSummary.Source(
            path: descriptor.path, loadID: loadID, format: descriptor.format,
            compression: descriptor.compression, records: delta.records,
            inserted: delta.inserted, updated: delta.updated, duplicates: delta.duplicates,
            rejected: delta.rejected, warnings: delta.warnings, status: status)
    }
}

extension ImportSummary {
    /// Sets the totals and the per-source lines from what this run did for each source.
    mutating func count(_ finished: [FinishedSource]) {
        let all = finished.map(\.delta)
        records = all.reduce(0) { $0 + $1.records }
        inserted = all.reduce(0) { $0 + $1.inserted }
        updated = all.reduce(0) { $0 + $1.updated }
        duplicates = all.reduce(0) { $0 + $1.duplicates }
        rejected = all.reduce(0) { $0 + $1.rejected }
        warnings = all.reduce(0) { $0 + $1.warnings }
        staged = all.reduce(0) { $0 + $1.unmerged }
        sources = finished.map(\.summarySource)
        rejectedBeforeResume = finished.reduce(0) { $0 + $1.base.rejected }
        for source in finished where source.base.rejected > 0 && source.status == .done {
            notes.append(
                "load \(source.loadID) (\(source.descriptor.path)) refused \(source.base.rejected) records before "
                    + "this run resumed it; they count in the exit code")
        }
    }
}

extension FactSegment {
    /// Writes the segment's refused records to the rejects file (when there is one) and keeps the first
    /// ten of the load in `samples`; both stores' writers do this for each segment.
    /// - Throws: `FileOutputError` when the rejects file cannot be written.
    func writeRejects(to file: BufferedFileOutput?, samples: inout [RecordDiagnostic]) throws {
        if let file {
            for diagnostic in rejects { try file.write(diagnostic.rejectLine) }
        }
        if samples.count < 10 { samples.append(contentsOf: rejects.prefix(10 - samples.count)) }
    }
}
