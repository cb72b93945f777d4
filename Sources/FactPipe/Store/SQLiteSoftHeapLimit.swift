import CSQLite
import Synchronization

/// SQLite's soft heap limit, which bounds a load's memory, held for as long as a writer's connection is open.
///
/// The limit is the whole process's (`sqlite3_soft_heap_limit64`), not a connection's: set by `PRAGMA
/// soft_heap_limit` and never given back, a load in a program embedding the library left that program's
/// own SQLite connections (its database, another library's) under factpipe's 56 MiB from then on. The
/// first writer to open sets it and remembers the program's own; the last to close puts that back.
enum SQLiteSoftHeapLimit {
    /// How many writers hold the limit, and the program's own limit from before the first of them.
    private static let state = Mutex<(holders: Int, original: Int64)>((0, 0))

    /// Sets the limit to `bytes` for a writer that opens; call `release()` as it closes.
    static func acquire(_ bytes: Int) {
        state.withLock { state in
            if state.holders == 0 { state.original = sqlite3_soft_heap_limit64(-1) }
            state.holders += 1
            _ = sqlite3_soft_heap_limit64(Int64(max(bytes, 0)))
        }
    }

    /// Runs `body` when no writer holds the limit, under the lock writers take; false when one does.
    static func whileNoneHeld(_ body: () -> Void) -> Bool {
        state.withLock { state in
            guard state.holders == 0 else { return false }
            body()
            return true
        }
    }

    /// A writer that held the limit closes: the last one gives the program its own limit back.
    static func release() {
        state.withLock { state in
            guard state.holders > 0 else { return }
            state.holders -= 1
            if state.holders == 0 { _ = sqlite3_soft_heap_limit64(state.original) }
        }
    }
}
