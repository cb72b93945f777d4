import Synchronization

/// Counters the stages update as a load runs, read by the progress line and at the end.
public final class ImportProgress: Sendable {
    /// Raw input bytes consumed (compressed bytes for compressed input).
    public let inputBytes = Atomic<Int64>(0)
    /// Total size of the inputs that are regular files, when known.
    public let inputSize = Atomic<Int64>(0)
    /// Records committed so far.
    public let committedRecords = Atomic<Int>(0)
    /// Set by a signal handler: stop, roll back the open batch, record the load as interrupted.
    public let isCancelled = Atomic<Bool>(false)

    public init() {}

    /// Asks the load to stop as soon as it can.
    public func cancel() {
        isCancelled.store(true, ordering: .relaxed)
    }
}
