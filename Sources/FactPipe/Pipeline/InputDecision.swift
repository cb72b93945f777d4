/// What a load does with one input, decided before reading it; a run and its dry run report it.
public enum InputDecision: String, Sendable, CaseIterable {
    /// Read it from the start into a new ledger row.
    case load
    /// Not read: the ledger has its content (same SHA-256) as loaded, or an earlier input of the same
    /// run has it.
    case skip
    /// Continue its interrupted load just after the last committed record.
    case resume
    /// Not tried: the run stopped at an earlier input.
    case notTried = "not_tried"
    /// It cannot be planned: it cannot be read, or the load to resume was of other content.
    case fail
}

/// One input and what a load decided for it, with why when it is not read from the start.
public struct InputPlan: Sendable, Equatable {
    public var path: String
    public var decision: InputDecision
    /// Why it is skipped, where a resume starts, or why it cannot be planned.
    public var reason: String?

    /// Creates the plan of one input.
    public init(path: String, decision: InputDecision, reason: String? = nil) {
        self.path = path
        self.decision = decision
        self.reason = reason
    }
}
