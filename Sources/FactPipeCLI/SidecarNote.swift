/// What `verify` and `restore` say when they put in place the files an export killed between its renames
/// left hidden beside the archive (`SidecarRollForward`): the folder changed, and a user watching it (or a
/// `sha256sum -c` that failed a moment before) is told why.
enum SidecarNote {
    static func text(_ paths: [String], command: String) -> String {
        let (them, describe) = paths.count == 1 ? ("it", "it describes") : ("them", "they describe")
        return "factpipe \(command): put \(paths.map(TerminalText.escaped).joined(separator: " and ")) in place: an "
            + "export killed between renaming the archive and renaming \(them) left \(them) hidden beside the "
            + "archive, and \(describe) the archive as it is"
    }
}
