#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Removes the temporary files that a killed factpipe left in a folder.
///
/// A command that is killed (`kill -9`, the OOM killer, a reboot) cannot remove its temporary files.
/// Every command that writes into a folder therefore first calls `sweep(folder:)`, which removes the
/// regular files there that factpipe named (`TemporaryName`) and whose owning process is gone. A file
/// of a live process — this one or another factpipe still at work — is never touched, nor is any file
/// whose name factpipe did not make, nor a link, a folder or anything below the folder. A name made on
/// another host or in another PID namespace (a container) is left alone too: its process number means
/// nothing here, so whether its owner is gone cannot be told. The checksum or manifest of an export
/// killed between renaming its archive and renaming them is put in place instead (`SidecarRollForward`).
public enum StaleTemporaries {
    /// Removes the stale temporary files in `folder`; returns the paths removed (none when the folder
    /// cannot be read: a sweep never fails the command that asked for it).
    @discardableResult
    public static func sweep(folder: String) -> [String] {
        guard let directory = opendir(folder.isEmpty ? "." : folder) else { return [] }
        defer { closedir(directory) }
        let descriptor = dirfd(directory)
        var removed: [String] = []
        var liveness: [TemporaryName.Owner: Bool] = [:]
        while let entry = readdir(directory) {
            let name = DirectoryEntry.name(entry)
            guard let owner = TemporaryName.owner(ofEntry: name), owner != TemporaryName.currentOwner,
                owner.place.map({ $0 == .current }) ?? true
            else { continue }
            let alive = liveness[owner] ?? owner.isAlive
            liveness[owner] = alive
            guard !alive else { continue }
            var info = stat()
            guard fstatat(descriptor, name, &info, AT_SYMLINK_NOFOLLOW) == 0, (info.st_mode & S_IFMT) == S_IFREG
            else { continue }
            // A killed export's checksum or manifest that describes its archive goes in place, not away.
            if let archive = SidecarRollForward.archiveName(ofEntry: name, in: folder),
                !SidecarRollForward.complete(PathText.joined(folder, archive)).isEmpty,
                fstatat(descriptor, name, &info, AT_SYMLINK_NOFOLLOW) != 0
            {
                continue
            }
            if unlinkat(descriptor, name, 0) == 0 {
                removed.append(PathText.joined(folder, name))
            }
        }
        return removed
    }

    /// `sweep(folder:)` on the folder holding `path`.
    @discardableResult
    public static func sweep(besides path: String) -> [String] {
        sweep(folder: PathText.split(path).folder)
    }
}
