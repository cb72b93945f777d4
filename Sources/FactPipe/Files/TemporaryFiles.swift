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
    /// The files noted, and whether `removeAll` ran (the process is ending: no file is made after it).
    private static let state = Mutex<(paths: Set<String>, isEnding: Bool)>(([], false))

    /// Notes a temporary file that exists now.
    static func register(_ path: String) {
        state.withLock { _ = $0.paths.insert(path) }
    }

    /// Makes the temporary file at `path` with `create` (an `open` with `O_CREAT`) and notes it, as one step
    /// against `removeAll`: a signal's removal comes either before it (nothing is made: -1, `errno` EINTR) or
    /// after it, and removes the file. Made and then noted, a file a signal came between was left behind.
    static func create(_ path: String, _ create: () -> Int32) -> Int32 {
        let (descriptor, code) = state.withLock { state -> (Int32, Int32) in
            guard !state.isEnding else { return (-1, EINTR) }
            let descriptor = create()
            if descriptor >= 0 { state.paths.insert(path) }
            return (descriptor, errno)
        }
        // The caller's message reads `errno`: as `open` left it, whatever unlocking did to it.
        if descriptor < 0 { errno = code }
        return descriptor
    }

    /// Forgets a temporary file that was renamed or removed.
    static func forget(_ path: String) {
        state.withLock { _ = $0.paths.remove(path) }
    }

    /// Whether a finished file was put in place, behind a lock held while one is being put there. Recursive:
    /// a restore's replacement holds it around the output's own (`AtomicFileOutput.commit`).
    private final class Placement: @unchecked Sendable {
        private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        /// Read and written only under the lock.
        var placed = false

        init() {
            var attributes = pthread_mutexattr_t()
            pthread_mutexattr_init(&attributes)
            pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_RECURSIVE))
            pthread_mutex_init(mutex, &attributes)
            pthread_mutexattr_destroy(&attributes)
        }

        func lock() { pthread_mutex_lock(mutex) }
        func unlock() { pthread_mutex_unlock(mutex) }
    }

    private static let placement = Placement()

    /// Runs `body`, which puts a finished file in place (renames it over the old one, with what goes with
    /// it: a restore first removes the replaced database's `-wal`), so that an interrupt cannot cut it in
    /// two: `settleForInterrupt` waits for it. Cut between the two, a restore left the old database without
    /// its log, its last commits gone, and said "interrupted".
    static func puttingInPlace<E: Error>(_ body: () throws(E) -> Void) throws(E) {
        placement.lock()
        defer { placement.unlock() }
        try body()
        placement.placed = true
    }

    /// For an interrupt: waits until no finished file is being put in place, then runs `end` — told whether
    /// one was (the command's result then stands, and it should end as it would have rather than say
    /// "interrupted") — with none able to start until it returns: an `end` that removes the temporaries
    /// and exits does so before any placement can begin (released between the two, a restore could still
    /// remove the old database's log and be cut off before its rename).
    public static func endingForInterrupt(_ end: (_ placed: Bool) -> Void) {
        placement.lock()
        defer { placement.unlock() }
        end(placement.placed)
    }

    /// True once `removeAll` ran: the process is ending, and work that would go into a temporary file can stop.
    public static var isEnding: Bool { state.withLock { $0.isEnding } }

    /// Removes every temporary file still noted, as the process ends (safe to call from any thread, at any
    /// time): no temporary file is made after it, so every later export, backup or restore in this process
    /// fails. Only for a process that is ending.
    public static func removeAll() {
        let pending = state.withLock { current -> Set<String> in
            current.isEnding = true
            defer { current.paths.removeAll() }
            return current.paths
        }
        for path in pending { unlink(path) }
    }
}
