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
    /// The open connections' handles, as addresses; how many connections are being opened or closed (not
    /// yet in the set, or out of it and closing: an interrupt cannot reach them, but the process must wait
    /// for them to close, whose close removes the `-wal`); and whether `interruptAll` ran. A handle is
    /// removed under the lock before it is closed, so `interruptAll` never reaches a closed one.
    private static let state = Mutex<(open: Set<UInt>, changing: Int, interrupting: Bool)>(([], 0, false))

    /// Called before a connection is opened: counted until `register` or `openFailed`.
    static func opening() {
        state.withLock { $0.changing += 1 }
    }

    /// The connection `opening` announced failed to open.
    static func openFailed() {
        state.withLock { $0.changing -= 1 }
    }

    /// The connection `opening` announced is open; interrupted at once when `interruptAll` ran before.
    static func register(_ handle: OpaquePointer) {
        state.withLock { state in
            state.changing -= 1
            state.open.insert(UInt(bitPattern: handle))
            if state.interrupting { sqlite3_interrupt(handle) }
        }
    }

    /// Called before a connection is closed: counted until `closed`.
    static func closing(_ handle: OpaquePointer) {
        state.withLock { state in
            state.open.remove(UInt(bitPattern: handle))
            state.changing += 1
        }
    }

    /// The connection `closing` announced is closed (its log checkpointed and removed when it was the last).
    static func closed() {
        state.withLock { $0.changing -= 1 }
    }

    /// Interrupts every statement the open connections run, and the next each starts while one still runs
    /// (with `andLaterOnes`, every connection opened after too): every connection of the process, a load's
    /// too (its `ImportProgress.cancel()` stops a load between batches instead). For a process that is ending.
    public static func interruptAll(andLaterOnes: Bool = false) {
        stopWaiting()
        state.withLock { state in
            if andLaterOnes { state.interrupting = true }
            for address in state.open {
                if let handle = OpaquePointer(bitPattern: address) { sqlite3_interrupt(handle) }
            }
        }
    }

    /// Ends every wait for another program's lock on a database (`SQLiteBusyWait`) and every later one: the
    /// statement waiting fails with `StoreError` `.interrupted`. For a command a stop signal reached: a load
    /// waiting on an open `BEGIN IMMEDIATE` of another program sat the signal out for the whole busy timeout
    /// and then failed (exit 1, "database is locked") instead of stopping as interrupted.
    public static func stopWaiting() {
        stopping.store(true, ordering: .sequentiallyConsistent)
    }

    /// True once `stopWaiting` ran.
    static var isStopping: Bool { stopping.load(ordering: .sequentiallyConsistent) }

    private static let stopping = Atomic<Bool>(false)

    /// Waits until every connection is closed, at most `seconds`; true when none is open. For a process that
    /// ends itself after `interruptAll`: its commands' connections close as their work unwinds, and with them
    /// go the `-wal` and `-shm` beside a WAL database.
    public static func waitUntilAllClosed(seconds: Double) -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1_000))
        func allClosed() -> Bool { state.withLock { $0.open.isEmpty && $0.changing == 0 } }
        while ContinuousClock.now < deadline {
            if allClosed() { return true }
            usleep(2_000)
        }
        return allClosed()
    }
}
