import ArgumentParser
import FactPipe

/// The exit codes factpipe documents in docs/loading.md ("Exit codes").
enum FactPipeExit {
    /// `code` once the command's report or metrics file could not be written: a stop's own code says more
    /// (aborted, interrupted); done, with rejects or not, becomes a failure.
    static func afterReportFailure(_ code: Int32) -> Int32 {
        code == success || code == doneWithRejects ? failure : code
    }

    /// Done, nothing rejected.
    static let success: Int32 = 0
    /// Any failure that is not one of the others: unreadable input, database errors.
    static let failure: Int32 = 1
    /// Done, but some records were rejected.
    static let doneWithRejects: Int32 = 2
    /// Aborted: the error budget ran out, or a conflict under `--on-conflict fail`.
    static let aborted: Int32 = 3
    /// Wrong usage: unknown flags, bad values.
    static let usage: Int32 = 64
    /// Interrupted by SIGINT (128 + 2) or SIGTERM (128 + 15).
    static let interrupted: Int32 = 130
    static let terminated: Int32 = 143

    /// 128 + the signal that stopped the command: 130 for SIGINT (2, also when none is known), 143 for
    /// SIGTERM, 129 for SIGHUP (the terminal closed).
    static func stopped(by signal: Int32?) -> Int32 {
        128 + (signal ?? 2)
    }
}

extension ImportSummary {
    /// The process exit code for this outcome.
    func exitCode(signal: Int32?) -> Int32 {
        if wasInterrupted { return FactPipeExit.stopped(by: signal) }
        switch status {
        // A resumed load whose refusals all came before the resume still refused them.
        case .done: return rejected + rejectedBeforeResume > 0 ? FactPipeExit.doneWithRejects : FactPipeExit.success
        case .aborted: return FactPipeExit.aborted
        case .interrupted: return FactPipeExit.stopped(by: signal)
        case .failed: return FactPipeExit.failure
        }
    }
}
