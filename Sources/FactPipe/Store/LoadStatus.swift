/// Where a load stands, as the ledger (`factpipe_loads.status`) records it.
public enum LoadStatus: String, Sendable, CaseIterable {
    /// Being written, or killed while it was (the next load into the database marks it `interrupted`).
    case running
    /// Every record of its input was read and accounted for.
    case done
    /// Stopped on purpose: the error budget ran out, or a conflict under `fail`.
    case aborted
    /// Stopped by an error.
    case failed
    /// Stopped by a signal, or killed; `--resume` goes on from its checkpoint.
    case interrupted
    /// Taken back by `factpipe undo`.
    case undone
}
