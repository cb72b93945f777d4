/// The rules a load checks its records by, as the ledger keeps them: a resume goes on under the rules its
/// load began with.
///
/// `--max-args`, `--max-arg-length`, `--strict-parts` and the others decide which records are facts and how
/// they are split. A resume under other rules went on without a word: the facts up to the checkpoint were
/// checked one way and the rest another, a mix no single run would give (a pipeline file edited between a
/// failed night and its resume did it too). The conflict policy and the format are kept the same way.
enum ValidationRules {
    /// The rules of `options`, as options a user would give (`--max-args 10, …`), the field mapping last.
    static func text(_ options: ImportOptions) -> String {
        let limits = options.limits
        var parts = [
            "--max-args \(limits.maxArgs)", "--max-arg-length \(limits.maxArgLength)",
            "--max-predicate-length \(limits.maxPredicateLength)",
            "--max-statement-bytes \(limits.maxStatementBytes)", "--max-record-bytes \(limits.maxRecordBytes)",
        ]
        if options.strictParts { parts.append("--strict-parts") }
        if !options.fieldMapping.isEmpty {
            let mapping = options.fieldMapping.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            parts.append("[mapping] " + mapping.map { "\($0.key) = \($0.value)" }.joined(separator: ", "))
        }
        return parts.joined(separator: ", ")
    }

    /// `recorded` (a ledger's `rules`) as `text` writes it now: earlier releases named the pipeline file's
    /// `[mapping]` table `[fields]`, a table no pipeline file has, and every load recorded so would have been
    /// refused a resume under the very rules it began with.
    static func current(_ recorded: String) -> String {
        guard let range = recorded.range(of: ", [fields] ") else { return recorded }
        return recorded.replacingCharacters(in: range, with: ", [mapping] ")
    }

    /// Why an input is skipped: its content (`sha256`) was loaded by load `loadID` from `source`. When that load
    /// refused records under other rules than those of `options` (`recorded`), the reason says so: a pipeline
    /// whose `[mapping]` or `[limits]` were mended after a night of rejects was skipped as "loaded", exit 0,
    /// the refused records never stored and nothing said.
    static func skipReason(
        sha256: String, loadID: Int64, source: String, rejected: Int, recorded: String?, options: ImportOptions
    ) -> String {
        let loaded = "the same content (SHA-256 \(sha256.prefix(12))…) was loaded by load \(loadID) from \(source)"
        let now = text(options)
        guard rejected > 0, let recorded = recorded.map(current), recorded != now else {
            return loaded + "; --force loads it again"
        }
        return loaded + ", which refused \(rejected) record\(rejected == 1 ? "" : "s") under other rules (\(recorded)) "
            + "than this run's (\(now)); --force loads it again under these"
    }

    /// Why `path` cannot go on with load `loadID`, which checked its records by `recorded`; nil when the rules
    /// of `options` are those (or the load recorded none: one made by an earlier release).
    static func resumeProblem(_ path: String, loadID: Int64, recorded: String?, options: ImportOptions) -> String? {
        guard let recorded = recorded.map(current) else { return nil }
        let now = text(options)
        guard recorded != now else { return nil }
        return "\(path) cannot be resumed under other rules: load \(loadID) checked its records up to the checkpoint "
            + "with \(recorded); this run would check the rest with \(now). Resume it with the rules it began with, "
            + "or undo load \(loadID) and load the input again"
    }
}
