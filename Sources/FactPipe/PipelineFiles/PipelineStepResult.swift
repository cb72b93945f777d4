/// What one step after a pipeline's load did.
public enum PipelineStepResult: Sendable {
    /// `[after] optimize`: what the optimizer did, and the database's size before and after.
    case optimized(OptimizeReport)
    /// `[after] snapshot`: the snapshot written, with the older ones `keep_snapshots` removed in its
    /// `removed` (oldest first), and the number kept (nil: every snapshot is kept).
    case snapshot(ArchiveResult, keep: Int?)
}

/// A step after a pipeline's load that did not do its job.
public struct PipelineStepError: Error, Sendable, CustomStringConvertible {
    /// The file the step was working on.
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}
