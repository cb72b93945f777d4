/// How the writer stage ends a load that stopped: the open batch rolled back, the committed ones
/// merged and recorded, and the ledger saying how each source ended.
extension WriterStage {
    /// Rolls back what is open, keeps what was committed, and records how the load ended.
    func fail(_ error: Error) {
        database.rollback()
        summary.apply(stop: error)
        if let kind = (error as? StoreError)?.kind, kind == .replaced || kind == .lockLost {
            stopWithoutWriting(databaseReplaced: kind == .replaced)
            return
        }
        let ledgerStatus = LoadLedger.Status(stoppedBy: error)
        if options.isAtomic {
            recordAtomicFailure(ledgerStatus)
            return
        }
        rollBackOpenBatchRejects()
        if let source = current {
            do {
                try merge(finalStatus: ledgerStatus, message: summary.message)
            } catch {
                recordFailedMerge(of: source, status: ledgerStatus, error: error)
            }
        }
        try? finishLoad()
    }

    /// Ends a load that must not write another byte: its database file lost its name (`.replaced`: a merge
    /// or an index build would go to that file), or its lock file did (`.lockLost`: another load may be
    /// writing, so not even the ledger's row is touched; it keeps its last checkpoint for a resume).
    /// When nothing of the load is in the database at the path (the file was replaced, or the load was
    /// atomic), its rejects go with it and every source counts as failed; otherwise only the open batch's.
    private func stopWithoutWriting(databaseReplaced: Bool) {
        if databaseReplaced || options.isAtomic {
            atomicRejects.rollBack(rejects, notes: &summary.notes)
            for index in finished.indices { finished[index].status = .failed }
        } else {
            rollBackOpenBatchRejects()
        }
        if let source = current {
            finished.append(FinishedSource(
                descriptor: source.descriptor, loadID: source.loadID, counts: source.committed, status: .failed,
                base: source.base))
        }
        current = nil
    }

    /// Cuts the rejects file back to the last commit, as the open batch rolled back (`RejectsResume.rollBack`).
    private func rollBackOpenBatchRejects() {
        RejectsResume.rollBack(
            rejects, to: rejectsCommittedSize,
            owners: current.map { [.init(source: $0.descriptor.path, fromLine: $0.committed.checkpointLine)] } ?? [],
            notes: &summary.notes)
    }

    /// Nothing of an atomic load stays, its rejects no more than its facts (`AtomicRejects`). Each source
    /// still gets its row, with nothing committed.
    private func recordAtomicFailure(_ ledgerStatus: LoadLedger.Status) {
        let finishedAt = Timestamp.now()
        atomicRejects.rollBack(rejects, notes: &summary.notes)
        // Sources that ended before the failure were rolled back with the rest: only the failed rows count.
        finished.removeAll()
        for descriptor in descriptors {
            if let id = try? ledger.start(
                source: descriptor.path, size: descriptor.size, format: descriptor.format.rawValue,
                compression: descriptor.compression, policy: options.conflictPolicy, startedAt: startedAt,
                status: ledgerStatus, sha256: descriptor.sha256, rules: ValidationRules.text(options)) {
                try? ledger.record(id: id, counts: .init(), status: ledgerStatus, finishedAt: finishedAt,
                                   message: summary.message)
                finished.append(
                    FinishedSource(descriptor: descriptor, loadID: id, counts: .init(), status: ledgerStatus))
            }
        }
        current = nil
    }

    /// The committed batches stay staged; the next load into this database merges them. Until then
    /// they are counted in `records` but not yet as inserted or duplicates: say so.
    private func recordFailedMerge(of source: OpenSource, status ledgerStatus: LoadLedger.Status, error: Error) {
        let counts = source.committed
        let staged = counts.unmerged
        let failed = (summary.message ?? "") + "; merging failed: \(error)"
        do {
            try ledger.record(id: source.loadID, counts: counts, status: ledgerStatus, finishedAt: Timestamp.now(),
                              message: failed)
        } catch {
            // The write that failed may be the log's: a file size limit (`ulimit -f`) the `-wal` reached, which the
            // row's one page then met again, and the row stayed `running` (the next load called it interrupted,
            // and why it failed was never said). Emptied into the database, the log takes that page.
            try? database.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            try? ledger.record(id: source.loadID, counts: counts, status: ledgerStatus, finishedAt: Timestamp.now(),
                               message: failed)
        }
        var note = summary.message ?? "failed"
        if directAppend != nil {
            note += "; the unique index on statements could not be rebuilt (the next load into this database "
                + "rebuilds it; the committed records are kept)"
        }
        if staged > 0 || directAppend == nil {
            note += "; \(staged) committed records stay staged until the next load into this database merges them "
                + "(if they cannot merge, `factpipe undo \(source.loadID)` discards them)"
        }
        summary.message = note
        finished.append(FinishedSource(
            descriptor: source.descriptor, loadID: source.loadID, counts: counts, status: ledgerStatus,
            base: source.base))
        current = nil
    }
}

extension LoadLedger.Status {
    /// How the ledger records a load that `error` stopped (either store's writer).
    init(stoppedBy error: Error) {
        switch error {
        case FactSinkStop.interrupted: self = .interrupted
        case FactSinkStop.requested(let requested, _): self = requested == .failed ? .failed : .aborted
        default: self = .failed
        }
    }
}
