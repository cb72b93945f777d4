import CSQLite

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// SQLite's busy timeout, as `sqlite3_busy_timeout` waits (the same steps, 1 ms growing to 100 ms, up to the
/// timeout), but in slices of at most 10 ms that give up once a stop signal came (`SQLiteInterrupts.stopWaiting`).
/// SQLite's own wait looks at nothing but the clock, and `sqlite3_interrupt` does not end it.
enum SQLiteBusyWait {
    /// Waits the connection `handle` makes for another connection's lock go through `wait`, for at most
    /// `milliseconds` each (0: no wait).
    static func install(on handle: OpaquePointer, milliseconds: Int32) {
        guard milliseconds > 0 else {
            sqlite3_busy_handler(handle, nil, nil)
            return
        }
        sqlite3_busy_handler(handle, wait, UnsafeMutableRawPointer(bitPattern: Int(milliseconds)))
    }

    /// The steps of SQLite's own busy timeout, in milliseconds; 100 after them.
    private static let steps = [1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100]

    /// Called by SQLite with how many times it has been called for this wait: sleeps the next step (less what
    /// is left of the timeout) and returns 1 to try again, or 0 to give up (the timeout is spent, or a stop
    /// signal came), which fails the statement with SQLITE_BUSY.
    private static let wait: @convention(c) (UnsafeMutableRawPointer?, Int32) -> Int32 = { context, count in
        let timeout = Int(bitPattern: context)
        let calls = Int(count)
        let waited = calls < steps.count
            ? steps.prefix(calls).reduce(0, +) : steps.reduce(0, +) + (calls - steps.count) * 100
        guard waited < timeout, !SQLiteInterrupts.isStopping else { return 0 }
        var left = min(calls < steps.count ? steps[calls] : 100, timeout - waited)
        while left > 0 {
            let slice = min(left, 10)
            usleep(useconds_t(slice * 1_000))
            left -= slice
            if SQLiteInterrupts.isStopping { return 0 }
        }
        return 1
    }
}
