import ArgumentParser
import FactPipe

/// The checks every command makes on the paths it is given, before it opens or creates anything:
/// a usage error (exit 64) for a database path that is not a file path, and for an output that is
/// one of the command's inputs or its database.
enum PathArguments {
    /// Refuses `path` as a database (empty, `:memory:`, a URI, a folder, a device).
    static func checkDatabase(_ path: String, option: String = "--db") throws {
        if let problem = DatabaseFile.problem(path) {
            throw ValidationError("\(option) \(path.isEmpty ? "\"\"" : path): \(problem)")
        }
    }

    /// Refuses any of `outputs` (option and path; nil when not given) that is the same file as one of
    /// `inputs`, the database, or another output; and an input that is the database.
    static func checkOutputs(_ outputs: [(String, String?)], inputs: [String] = [], database: String?) throws {
        do {
            try OutputPathCheck.check(
                outputs: outputs.compactMap { option, path in path.map { (option, $0) } }, inputs: inputs,
                databasePath: database)
        } catch {
            throw ValidationError(error.message)
        }
    }
}
