#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What backup and snapshot retention share: the archive just written is never among those deleted,
/// and the deleted ones go with their side files, the folder synced after.
enum ArchiveRetention {
    /// `paths` without the archive at `written` (nil: none was written), compared by name and by file
    /// identity, so that another spelling of it or a link to it is left out too.
    static func excluding(_ written: String?, from paths: [String]) -> [String] {
        guard let written else { return paths }
        let identity = FileIdentity(path: written)
        return paths.filter { $0 != written && (identity == nil || FileIdentity(path: $0) != identity) }
    }

    /// Deletes each of `doomed` and the files named by appending each of `sideFileSuffixes` to it, then
    /// syncs their folder; `kind` names them in an error ("backup", "snapshot").
    /// - Throws: `SnapshotError` `.io` when an archive cannot be deleted (the ones before it are gone).
    static func delete(_ doomed: [String], sideFileSuffixes: [String], kind: String) throws(SnapshotError) {
        for path in doomed {
            guard unlink(path) == 0 else {
                throw SnapshotError(.io, path: path, "cannot delete this old \(kind): \(systemError())")
            }
            for suffix in sideFileSuffixes { unlink(path + suffix) }
        }
        if let first = doomed.first { try AtomicFileOutput.syncFolder(of: first) }
    }
}
