/// What a load will do with one input, decided before reading it from the ledger and the input's hash.
struct SourcePlan: Sendable {
    enum Action: Sendable, Equatable {
        /// Read it from the start into a new ledger row.
        case load
        /// Its content was loaded before (same SHA-256, status done): not read again without `force`.
        case skip(reason: String)
        /// Continue ledger row `loadID` just after its last committed record; `rejected` records of it were
        /// refused up to there (they count against `--max-errors` as they did before the stop).
        case resume(loadID: Int64, offset: Int64, line: Int, rejected: Int)
    }

    var path: String
    /// SHA-256 of the input, known up front for regular files.
    var sha256: String?
    var action: Action
    /// The file `sha256` was read from (`FileStamp`): the reader refuses a file that is no longer it.
    var stamp: FileStamp?
    /// For a resume with no format given, the one its load read the input in: read on in it rather than in
    /// what detection makes of the file now.
    var resumeFormat: InputFormat?
    /// For a skip of the same content as an input read earlier in the run: that input's path.
    var copyOf: String?
    /// For a load from the first line, what the ledger says of an earlier load of the content that makes it
    /// worth a word (`ResumePolicy.reloadNote`).
    var note: String?

    /// Records the resumed load refused before its checkpoint; 0 for any other plan.
    var rejectedBefore: Int {
        if case .resume(_, _, _, let rejected) = action { return rejected }
        return 0
    }

    /// The plan as the public types report it.
    var inputPlan: InputPlan {
        switch action {
        case .load:
            return InputPlan(path: path, decision: .load, reason: note)
        case .skip(let reason):
            return InputPlan(path: path, decision: .skip, reason: reason)
        case .resume(let loadID, _, let line, _):
            return InputPlan(path: path, decision: .resume, reason: "load \(loadID) goes on from line \(line)")
        }
    }
}
