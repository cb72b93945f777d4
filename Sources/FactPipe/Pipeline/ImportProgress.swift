import Synchronization

/// Counters the stages update as a load runs, read by the progress line and at the end. One per load: once
/// cancelled it stays so, and a load given it stops at once.
public final class ImportProgress: Sendable {
    /// Raw input bytes consumed (compressed bytes for compressed input).
    public let inputBytes = Atomic<Int64>(0)
    /// Total size of the inputs that are regular files, when known.
    public let inputSize = Atomic<Int64>(0)
    /// Records committed so far.
    public let committedRecords = Atomic<Int>(0)
    /// Set by a signal handler: stop, roll back the open batch, record the load as interrupted.
    public let isCancelled = Atomic<Bool>(false)

    /// What the reader noticed that the load's user should know (the summary's `notes`).
    let readerNotes = Mutex<[String]>([])

    /// Run once by `cancel`: they wake the stages that wait (on a queue, not on input).
    private let cancelHandlers = Mutex<[@Sendable () -> Void]?>([])

    public init() {}

    /// Asks the load to stop as soon as it can: also a stage that waits for input that does not come.
    public func cancel() {
        isCancelled.store(true, ordering: .relaxed)
        let handlers = cancelHandlers.withLock { handlers in
            defer { handlers = nil }
            return handlers ?? []
        }
        for handler in handlers { handler() }
    }

    /// Runs `handler` when the load is cancelled (at once if it already was).
    func whenCancelled(_ handler: @escaping @Sendable () -> Void) {
        let runNow = cancelHandlers.withLock { handlers -> Bool in
            guard handlers != nil else { return true }
            handlers?.append(handler)
            return false
        }
        if runNow { handler() }
    }
}
