#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Files moved out of the way under hidden names (`TemporaryName`) while the file they belong to is
/// replaced: a replacement that fails puts them back, one that succeeds removes them. Removed before it
/// instead, a rename that then failed (an immutable file, a bind-mounted database) lost them. A process
/// killed meanwhile leaves them to `StaleTemporaries` (and to `SidecarRollForward`, for an archive's).
struct SetAside {
    private var moved: [(path: String, hidden: String)] = []

    /// Moves `path` aside when something is there. When it cannot be moved, puts back what was moved before
    /// and throws `SnapshotError` `.io` naming it as `what`.
    mutating func move(_ path: String, what: String) throws(SnapshotError) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        let hidden = TemporaryName.make(for: path)
        guard AtomicFileOutput.move(path, to: hidden, replacing: true) == 0 else {
            let reason = systemError()
            putBack()
            throw SnapshotError(.io, path: path, "cannot move \(what) aside: \(reason) (nothing was replaced)")
        }
        moved.append((path, hidden))
    }

    /// Puts the files moved aside back where they were: the replacement failed.
    func putBack() {
        for file in moved.reversed() { _ = AtomicFileOutput.move(file.hidden, to: file.path, replacing: true) }
    }

    /// Removes the files moved aside: what they belonged to is replaced.
    func discard() {
        for file in moved { unlink(file.hidden) }
    }
}
