import CSQLite
import Synchronization
#if canImport(Glibc)
    import Glibc
#endif

/// Every SQLite connection open in this process, so that a signal can interrupt what they run.
///
/// A reader command stopped by a signal died with its connection open: the `-wal` and `-shm` SQLite makes
/// beside a WAL database were left behind (a reader otherwise leaves none), and later readers kept them. A
/// command that traps the signal interrupts its connections instead (`sqlite3_interrupt`, which may be
/// called from another thread while the connection is open), so the running statement fails at once and
/// the command ends through its own error path, closing its connections.
public enum SQLiteInterrupts {
    /// The open connections' handles, as addresses. A handle is removed under the lock before it is closed,
    /// so `interruptAll` never reaches a closed one.
    private static let open = Mutex<Set<UInt>>([])

    static func register(_ handle: OpaquePointer) {
        open.withLock { _ = $0.insert(UInt(bitPattern: handle)) }
    }

    static func unregister(_ handle: OpaquePointer) {
        open.withLock { _ = $0.remove(UInt(bitPattern: handle)) }
    }

    /// Interrupts every statement the open connections run, and the next each starts while one still runs:
    /// every connection of the process, a load's too (its `ImportProgress.cancel()` stops a load between
    /// batches instead). For a process that is ending.
    public static func interruptAll() {
        open.withLock { handles in
            for address in handles {
                if let handle = OpaquePointer(bitPattern: address) { sqlite3_interrupt(handle) }
            }
        }
    }

    /// Waits until every connection is closed, at most `seconds`; true when none is open. For a process that
    /// ends itself after `interruptAll`: its commands' connections close as their work unwinds, and with them
    /// go the `-wal` and `-shm` beside a WAL database.
    public static func waitUntilAllClosed(seconds: Double) -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1_000))
        while ContinuousClock.now < deadline {
            if open.withLock({ $0.isEmpty }) { return true }
            usleep(2_000)
        }
        return open.withLock { $0.isEmpty }
    }
}
