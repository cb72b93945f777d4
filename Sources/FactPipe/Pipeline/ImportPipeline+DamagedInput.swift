extension ImportPipeline {
    /// Takes back the load of a compressed input whose data failed the decoder's check.
    ///
    /// gzip checks a member's CRC only at its end, and zstd a frame's checksum at its end; what was
    /// decoded before that point was handed on, and its batches committed, though it came from the same
    /// damaged bytes: one flipped bit in a gzip file of 150,000 facts made two facts no one wrote, kept
    /// among 97,883 when the check failed. Such a load is not half a file to resume but facts of unknown
    /// truth, so it is undone (`LoadUndo`) as soon as the store has let go of the database: the facts it
    /// inserted are deleted, unless another live load brought them too. Facts it updated or replaced keep
    /// the values it gave them, as after any undo, and the message says how many.
    ///
    /// The whole load goes, also where the input is several members or frames (`cat a.gz b.gz`) and only a
    /// later one failed: a load is undone as one, and the mended input loads again as one. A truncated stream
    /// is not damage: what was read is a true prefix, kept for `--resume`. An atomic load committed nothing;
    /// a load `--into-existing` has no ledger to undo by, and says what stays.
    func undoDamagedInput(_ summary: inout ImportSummary) {
        guard summary.status == .failed, let damage = summary.error as? ReadError,
            damage.kind == .corruptCompressedStream, !options.isAtomic,
            let index = summary.sources.lastIndex(where: { $0.status == .failed })
        else { return }
        let source = summary.sources[index]
        let stopped = summary.message ?? "\(damage)"
        if options.intoExisting {
            if source.inserted + source.updated > 0 {
                summary.message = stopped + "; the \(source.inserted + source.updated) facts committed from it before the "
                    + "damage showed stay in the database and may hold damaged values"
            }
            return
        }
        do {
            let undone = try LoadUndo.undo(loadID: source.loadID, databasePath: options.databasePath)
            summary.sources[index].status = .undone
            var words = stopped + "; its load \(source.loadID) was undone (what it committed before the check failed "
                + "came from the same input; load the input again once it is mended): \(undone.deleted) facts deleted"
            if undone.keptForOtherLoads > 0 {
                words += ", \(undone.keptForOtherLoads) kept because another load also brought them"
            }
            if undone.leftUpdated > 0 {
                words += ", \(undone.leftUpdated) facts it updated or replaced keep the values it gave them"
            }
            summary.message = words
        } catch {
            summary.message = stopped + "; what it committed before the check failed came from the same input, and "
                + "undoing its load failed (\(error)): run `factpipe undo \(source.loadID)`"
        }
    }
}
