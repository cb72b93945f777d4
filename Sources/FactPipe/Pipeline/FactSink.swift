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
    case requested(ImportSummary.Status, StopReason)

    /// A stop for a reason given in words (a conflict under `fail`, say).
    static func requested(_ status: ImportSummary.Status, _ text: String) -> FactSinkStop {
        .requested(status, .message(text))
    }
}

/// Why the batcher stops a load: a reason in words (the error budget ran out), or the error that
/// stopped the reader, kept as it is.
enum StopReason: Sendable, CustomStringConvertible {
    case message(String)
    case error(any Error)

    /// The reason in words: the message, or the error's description.
    var description: String {
        switch self {
        case .message(let text): text
        case .error(let error): "\(error)"
        }
    }
}

extension ImportSummary {
    /// Records in the summary how the load ended after `error`.
    mutating func apply(stop error: Error) {
        switch error {
        case FactSinkStop.interrupted:
            status = .interrupted
            wasInterrupted = true
            message = "interrupted; the open batch was rolled back"
        case FactSinkStop.requested(let requested, .message(let text)):
            status = requested
            message = text
        case FactSinkStop.requested(let requested, .error(let cause)):
            status = requested
            self.error = cause
        default:
            status = .failed
            self.error = error
        }
    }
}
