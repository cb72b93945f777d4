/// The writer stage's side of a load: where facts go (a factpipe database, or an existing one).
protocol FactSink: AnyObject {
    /// Decides what to do with each input before reading starts.
    func plan(_ inputs: [String]) throws -> [SourcePlan]
    /// Consumes the batcher's messages until they end or the load stops; returns what was committed.
    func run(_ messages: BoundedQueue<WriterMessage>, estimatedRecords: Int64?) -> ImportSummary
}

/// Why a writer stopped before the end of its input.
enum FactSinkStop: Error {
    /// SIGINT or SIGTERM (`ImportProgress.cancel()`).
    case interrupted
    /// The batcher or the writer decided to stop: error budget, `fail` conflict, unreadable input.
    case requested(ImportSummary.Status, String)
}

extension ImportSummary {
    /// Records in the summary how the load ended after `error`.
    mutating func apply(stop error: Error) {
        switch error {
        case FactSinkStop.interrupted:
            status = .interrupted
            wasInterrupted = true
            message = "interrupted; the open batch was rolled back"
        case FactSinkStop.requested(let requested, let text):
            status = requested
            message = text
        default:
            status = .failed
            message = "\(error)"
        }
    }
}
