#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
    /// A load the error budget (or a conflict under `fail`) stopped never reached the check: the garbage
    /// of damaged bytes is what runs a budget out, and what it committed before stayed, the damage unsaid.
    /// So a regular file's compressed data is read to its end after such a stop, and a failed check undoes
    /// the load the same way.
    ///
    /// The whole load goes, also where the input is several members or frames (`cat a.gz b.gz`) and only a
    /// later one failed: a load is undone as one, and the mended input loads again as one. A truncated stream
    /// is not damage: what was read is a true prefix, kept for `--resume`. An atomic load committed nothing;
    /// a load `--into-existing` has no ledger to undo by, and says what stays.
    func undoDamagedInput(_ summary: inout ImportSummary, isCancelled: () -> Bool = { false }) {
        guard !options.isAtomic, summary.status == .failed || summary.status == .aborted else { return }
        let stopped = summary.message ?? summary.status.rawValue
        // No ledger, no sources to undo by: say what stays.
        if options.intoExisting {
            guard let damage = summary.error as? ReadError,
                damage.kind == .corruptCompressedStream || damage.kind == .changedWhileRead,
                summary.inserted + summary.updated > 0
            else { return }
            summary.message = stopped + "; the \(summary.inserted + summary.updated) facts committed from it before the "
                + "damage showed stay in the database and may hold damaged values"
            return
        }
        guard let index = summary.sources.lastIndex(where: { $0.status == .failed || $0.status == .aborted }) else {
            return
        }
        let source = summary.sources[index]
        let found: String
        var why = "what it committed before the check failed came from the same input; load the input again once it is "
            + "mended"
        if summary.status == .failed {
            guard let damage = summary.error as? ReadError, Self.takesItsLoadBack(damage) else { return }
            if damage.kind == .changedWhileRead {
                why = "what it committed may mix two states of the database"
            } else if damage.kind == .compressedDataInside {
                why = "a load is taken back as one"
            }
            found = stopped
        } else {
            // Nothing committed, nothing to take back: a huge file is not read again for a first record refused.
            // (A resumed load may hold what its earlier runs committed.)
            guard source.compression != .none, source.inserted + source.updated > 0 || options.resume,
                let damage = Self.damage(of: source.path, source.compression, isCancelled: isCancelled)
            else { return }
            found = stopped + "; read to its end after the stop, \(damage)"
        }
        do {
            let undone = try LoadUndo.undo(loadID: source.loadID, databasePath: options.databasePath)
            summary.sources[index].status = .undone
            summary.deletedByUndo += undone.deleted
            var words = found + "; its load \(source.loadID) was undone (\(why)): \(undone.deleted) facts deleted"
            if undone.keptForOtherLoads > 0 {
                words += ", \(undone.keptForOtherLoads) kept because another load also brought them"
            }
            if undone.leftUpdated > 0 {
                words += ", \(undone.leftUpdated) facts it updated or replaced keep the values it gave them"
            }
            summary.message = words
        } catch {
            summary.message = found + "; what it committed before the check failed came from the same input, and "
                + "undoing its load failed (\(error)): run `factpipe undo \(source.loadID)`"
        }
    }

    /// True for a read error that makes what the load committed before it no true part of the input: damage
    /// a decoder's check found, a SQLite input written while it was read, compressed data among the records.
    static func takesItsLoadBack(_ error: ReadError) -> Bool {
        error.kind == .corruptCompressedStream || error.kind == .changedWhileRead || error.kind == .compressedDataInside
    }

    /// The check a regular file's gzip or zstd data fails when read to its end, or nil: it passes, it is
    /// not a regular file (a pipe is not read again), it cannot be read now, or `isCancelled` (a signal)
    /// stopped the reading.
    static func damage(
        of path: String, _ compression: InputCompression, isCancelled: () -> Bool = { false }
    ) -> ReadError? {
        var info = stat()
        guard path != "-", stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { block.deallocate() }
        do {
            let file = try FileByteSource(path: path)
            file.stopHashing()
            let decoded: any ByteSource = compression == .gzip
                ? try GzipByteSource(upstream: file) : try ZstdByteSource(upstream: file)
            while try decoded.read(into: block) > 0 {
                if isCancelled() { return nil }
            }
            return nil
        } catch {
            return error.kind == .corruptCompressedStream ? error : nil
        }
    }
}
