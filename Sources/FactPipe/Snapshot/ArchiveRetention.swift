#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What backup and snapshot retention share: the archive just written is never among those deleted,
/// and the deleted ones go with their side files, the folder synced after.
enum ArchiveRetention {
    /// What pruning did and left: the archives it deleted (oldest first), and the ones at the database's path
    /// it neither counted nor deleted, for the command to name (`DatabaseIdentity.Kinship`).
    struct Outcome: Equatable {
        /// The archives deleted, oldest first.
        var removed: [String] = []
        /// Archives recording another database's identity.
        var otherDatabasesLeft: [String] = []
        /// Archives recording no identity, of a database that has one.
        var unrecordedLeft: [String] = []
    }

    /// `paths` without the archive at `written` (nil: none was written), compared by name and by file
    /// identity, so that another spelling of it or a link to it is left out too.
    static func excluding(_ written: String?, from paths: [String]) -> [String] {
        guard let written else { return paths }
        let identity = FileIdentity(path: written)
        return paths.filter { $0 != written && (identity == nil || FileIdentity(path: $0) != identity) }
    }

    /// Deletes each of `doomed` and the files named by appending each of `sideFileSuffixes` to it, then
    /// syncs their folder; `kind` names them in an error ("backup", "snapshot"). The files beside an archive
    /// go first: killed between the two, the archive deleted first left its `.sha256`, which nothing ever
    /// removed (it is no archive), while an archive left without it is still one, pruned the next time.
    /// - Throws: `SnapshotError` `.io` when an archive cannot be deleted (the ones before it are gone).
    /// `afterSideFiles` runs between an archive's side files and the archive (a test stops there, as a kill).
    static func delete(
        _ doomed: [String], sideFileSuffixes: [String], kind: String,
        afterSideFiles: ((String) throws(SnapshotError) -> Void)? = nil
    ) throws(SnapshotError) {
        for path in doomed {
            // Not when the archive itself cannot go (a folder this user may not write): it keeps its checksum.
            guard access(AtomicFileOutput.folder(of: path), W_OK) == 0 else {
                throw SnapshotError(.io, path: path, "cannot delete this old \(kind): \(systemError())")
            }
            // Kept in memory until the archive is gone: an archive that could not be deleted after them (made
            // immutable, `chattr +i`) was left without its checksum, which `sha256sum -c` then lacked.
            var removed: [(path: String, bytes: [UInt8], info: stat)] = []
            for suffix in sideFileSuffixes {
                let side = path + suffix
                var info = stat()
                if lstat(side, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size <= 1 << 20,
                    let input = try? ArchiveInput(path: side),
                    let bytes = try? input.read(at: 0, count: Int(info.st_size))
                {
                    removed.append((side, bytes, info))
                }
                unlink(side)
            }
            try afterSideFiles?(path)
            // Gone already: another prune of the same folder took it (two overlapping `--keep` runs).
            guard unlink(path) == 0 || errno == ENOENT else {
                let reason = systemError()
                restore(removed)
                throw SnapshotError(.io, path: path, "cannot delete this old \(kind): \(reason)")
            }
        }
        if let first = doomed.first { try AtomicFileOutput.syncFolder(of: first) }
    }

    /// Writes the side files of an archive that could not be deleted back as they were: bytes, permissions,
    /// owner and times, as one against an interrupt (whose clean-up would remove a file half written back).
    private static func restore(_ files: [(path: String, bytes: [UInt8], info: stat)]) {
        TemporaryFiles.puttingInPlace { () throws(Never) in
            for file in files {
                let owner = (user: file.info.st_uid, group: file.info.st_gid)
                try? AtomicFileOutput.writeSynced(
                    file.bytes, to: file.path, reportedAs: file.path, mode: file.info.st_mode & 0o7777, owner: owner)
                TemporaryFiles.forget(file.path)
                var times = [file.info.st_atim, file.info.st_mtim]
                _ = utimensat(AT_FDCWD, file.path, &times, 0)
            }
        }
    }
}
