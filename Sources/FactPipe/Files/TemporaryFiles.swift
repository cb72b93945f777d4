import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The temporary files of exports, backups and restores that are not yet renamed into place or
/// removed, so that an interrupted command can remove them (the command line calls `removeAll()`
/// on SIGINT and SIGTERM). A finished or failed command leaves none: each one removes its own.
public enum TemporaryFiles {
    private static let paths = Mutex<Set<String>>([])

    /// Notes a temporary file that exists now.
    static func register(_ path: String) {
        paths.withLock { _ = $0.insert(path) }
    }

    /// Forgets a temporary file that was renamed or removed.
    static func forget(_ path: String) {
        paths.withLock { _ = $0.remove(path) }
    }

    /// Removes every temporary file still noted (safe to call from any thread, at any time).
    public static func removeAll() {
        let pending = paths.withLock { current -> Set<String> in
            defer { current.removeAll() }
            return current
        }
        for path in pending { unlink(path) }
    }
}
