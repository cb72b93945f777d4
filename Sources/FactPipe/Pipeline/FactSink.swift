#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The writer stage's side of a load: where facts go (a factpipe database, or an existing one).
protocol FactSink: AnyObject {
    /// Decides what to do with each input before reading starts.
    func plan(_ inputs: [String]) throws -> [SourcePlan]
    /// Consumes the batcher's messages until they end or the load stops; returns what was committed.
    /// `sourcesToRead` inputs were planned to be read (the others are skipped).
    func run(_ messages: BoundedQueue<WriterMessage>, estimatedRecords: Int64?, sourcesToRead: Int) -> ImportSummary
}

extension FinishedSource {
    /// True when an interrupt that came after these sources were finished came too late to stop the
    /// load: it is not atomic (whose commit is still to come), and every one of the `sourcesToRead`
    /// inputs was read to its end and merged, committed and recorded as done. The ledger already says
    /// done, so the load finishes (what a bulk load dropped is built) and says so, instead of calling
    /// interrupted a load that holds every record.
    ///
    /// Only for regular files (a known size): the end of a pipe, a FIFO or standard input may be its
    /// writer dying of the same signal (Ctrl-C reaches the whole pipeline), so such a load still says
    /// interrupted.
    static func interruptCameAfterTheEnd(
        _ finished: [FinishedSource], sourcesToRead: Int, isOpen: Bool, isAtomic: Bool
    ) -> Bool {
        everyInputIsRecordedDone(finished, sourcesToRead: sourcesToRead, isOpen: isOpen, isAtomic: isAtomic)
            && finished.allSatisfy { $0.descriptor.size != nil && $0.descriptor.path != "-" }
    }

    /// True when every one of the `sourcesToRead` inputs was read to its end and merged, committed and recorded
    /// as done, none is open, and the load is not atomic: an interrupt now stops nothing. Where an input is a
    /// pipe, the load says interrupted all the same (`interruptedAsItsInputEnded`), in words that are true.
    static func everyInputIsRecordedDone(
        _ finished: [FinishedSource], sourcesToRead: Int, isOpen: Bool, isAtomic: Bool
    ) -> Bool {
        !isAtomic && !isOpen && sourcesToRead > 0 && finished.count == sourcesToRead
            && finished.allSatisfy { $0.status == .done }
    }

    /// What an interrupt (`isCancelled`) means once the batcher's messages ended: nothing (none came); a late one
    /// (`interruptCameAfterTheEnd`: the load finishes and says so); one as a pipe's input ended
    /// (`everyInputIsRecordedDone` but not that: the load finishes and says interrupted,
    /// `ImportSummary.interruptedAsItsInputEnded`). Throws `FactSinkStop.interrupted` when it stops the load.
    static func interruptAtTheEnd(
        _ finished: [FinishedSource], sourcesToRead: Int, isOpen: Bool, isAtomic: Bool, isCancelled: Bool
    ) throws(FactSinkStop) -> InterruptAtTheEnd {
        guard isCancelled else { return .none }
        if interruptCameAfterTheEnd(finished, sourcesToRead: sourcesToRead, isOpen: isOpen, isAtomic: isAtomic) {
            return .late
        }
        if everyInputIsRecordedDone(finished, sourcesToRead: sourcesToRead, isOpen: isOpen, isAtomic: isAtomic) {
            return .asAPipeEnded
        }
        throw .interrupted
    }

    /// See `interruptAtTheEnd`.
    enum InterruptAtTheEnd { case none, late, asAPipeEnded }

    /// The note a load that finished despite a late interrupt carries.
    static let lateInterruptNote = "an interrupt came after every input was loaded and recorded: the load finished"

    /// The note of a load into a `facts` with triggers of the user's (`names`; nil when there are none): a
    /// trigger may keep a row from being stored, change it or take it out again, and the counts are of what the
    /// load wrote (a row a trigger kept out counts as a duplicate).
    static func triggerNote(_ names: [String]) -> String? {
        guard !names.isEmpty else { return nil }
        return "facts has triggers of its own (\(names.joined(separator: ", "))): the counts are of the rows this "
            + "load wrote, not of what the triggers kept or removed"
    }
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

    /// `error` as a load reports it: a wait that a signal ended — for another load's lock (`StoreError`
    /// `.interrupted`), for a rejects pipe's reader (`CancellableOutput`) — is the interrupt it is, not a
    /// failure.
    static func reported(_ error: Error, isCancelled: () -> Bool) -> Error {
        if let store = error as? StoreError, store.kind == .interrupted { return FactSinkStop.interrupted }
        if let server = error as? PostgreSQLError, server.wasInterrupted { return FactSinkStop.interrupted }
        guard let output = error as? FileOutputError, output.code == EINTR, isCancelled() else { return error }
        return FactSinkStop.interrupted
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
    /// Says interrupted a load that an interrupt reached once every input, a pipe or standard input among them,
    /// was read to its end and recorded done: the end of a pipe may be its writer stopped by the same signal
    /// (Ctrl-C reaches the whole pipeline), so the load does not say done; nor does it say its open batch was
    /// rolled back, as it did while its ledger said done and every record the input gave was in.
    mutating func interruptedAsItsInputEnded() {
        status = .interrupted
        wasInterrupted = true
        message = "interrupted as its input ended: every record the input gave was committed and the load is "
            + "recorded done, but the end of a pipe or standard input may be its writer stopped by the same "
            + "signal; check that the input was whole"
    }

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
