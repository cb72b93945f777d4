import Dispatch
import FactPipe
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Turns SIGINT, SIGTERM and SIGHUP into a request to stop the load cleanly instead of killing the
/// process (a second one ends it at once, `stopAtOnce`), and sets SIGPIPE aside: a rejects pipe or FIFO whose reader went away (`--rejects >(head)`)
/// is a write that fails (EPIPE), so the load stops with its committed batches kept and its ledger
/// saying why, instead of the process dying mid-load with the ledger still saying `running`.
final class SignalTrap: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]
    /// The signal that arrived, 0 when none.
    let received = Atomic<Int32>(0)
    /// When it arrived, on the monotonic clock.
    private let firstAt = Atomic<UInt64>(0)

    private static func nanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    init(progress: ImportProgress) {
        Glibc.signal(SIGPIPE, SIG_IGN)
        let numbers = Self.stopSignals()
        sources = numbers.map { DispatchSource.makeSignalSource(signal: $0, queue: .global()) }
        for (source, number) in zip(sources, numbers) {
            source.setEventHandler { [self] in
                let now = Self.nanoseconds()
                guard self.received.compareExchange(expected: 0, desired: number, ordering: .sequentiallyConsistent)
                    .exchanged
                else {
                    // One Ctrl-C can arrive twice (to the process group and through a wrapper that forwards
                    // it): only a signal a second or more after the first stops at once. A first whose time
                    // is not stored yet came just now.
                    let first = self.firstAt.load(ordering: .sequentiallyConsistent)
                    if first != 0, now &- first >= 1_000_000_000 { Self.stopAtOnce(number) }
                    return
                }
                self.firstAt.store(now, ordering: .sequentiallyConsistent)
                progress.cancel()
                // A wait for another program's lock on the database ends now, as a wait for another load's does.
                SQLiteInterrupts.stopWaiting()
            }
            source.resume()
        }
    }

    /// A second stop signal: the clean stop is waiting on something that does not answer (a server that
    /// froze, a disk that hangs), and the user asked again. Ends the process now, as `kill -9` would but
    /// with a word: committed batches stay, the open one is rolled back (by the server, or by SQLite when
    /// the database is next opened), and `--resume` goes on from the last checkpoint.
    private static func stopAtOnce(_ number: Int32) -> Never {
        stoppingAtOnce.store(true, ordering: .sequentiallyConsistent)
        Standard.error(
            "factpipe: \(name(of: number)) again: stopping at once, without waiting for the open batch; what was "
                + "committed stays, the open batch is rolled back, and --resume goes on from the last checkpoint")
        TemporaryFiles.endingForInterrupt { _ in
            TemporaryFiles.removeAll()
            cancelServerStatements()
            _exit(128 + number)
        }
        _exit(128 + number)
    }

    /// Set as a signal's handler ends the process (a second stop signal of a load, `InterruptCleanup`): the
    /// statements it cancels fail on the command's thread, whose error the command would print and exit with
    /// (1) before the handler ends it with 128 + the signal.
    static let stoppingAtOnce = Atomic<Bool>(false)

    /// Called where the command would end the process: while a stop at once is ending it, waits for that.
    static func waitIfStoppingAtOnce() {
        guard stoppingAtOnce.load(ordering: .sequentiallyConsistent) else { return }
        while true { pause() }
    }

    /// For a process about to end at once: a PostgreSQL server process would go on with the statement it
    /// runs, holding the writer lock, until it next looked at the connection (a wait for another session's
    /// lock: as long as that lock is held). Cancel requests end such waits; a frozen server may not answer
    /// them, so they get a second at most.
    static func cancelServerStatements() {
        let cancelled = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            PostgreSQLSessions.cancelRunningStatements()
            cancelled.signal()
        }
        _ = cancelled.wait(timeout: .now() + 1)
    }

    /// The signal number that stopped the load, if one did.
    var receivedSignal: Int32? {
        let value = received.load(ordering: .relaxed)
        return value == 0 ? nil : value
    }

    /// The signals that stop a command cleanly, each set to be ignored so that a Dispatch source takes it:
    /// SIGINT, SIGTERM, SIGQUIT (Ctrl-\: the Swift runtime printed a "Program crashed" backtrace for it and
    /// the load went on), and SIGHUP (the terminal closed) unless the command was started ignoring it
    /// (`nohup`), which it then goes on doing.
    static func stopSignals() -> [Int32] {
        var numbers: [Int32] = []
        for number in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] {
            let previous = Glibc.signal(number, SIG_IGN)
            let wasIgnored = previous.map { unsafeBitCast($0, to: Int.self) == 1 } ?? false
            if number == SIGHUP && wasIgnored { continue }
            numbers.append(number)
        }
        return numbers
    }

    /// True when `number`'s action is to be ignored (as `nohup` leaves SIGHUP); looks without changing it.
    static func isIgnored(_ number: Int32) -> Bool {
        var current = sigaction()
        guard sigaction(number, nil, &current) == 0 else { return false }
        return unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
    }

    /// `SIGINT`, `SIGTERM` or `SIGHUP`.
    static func name(of number: Int32) -> String {
        switch number {
        case SIGTERM: "SIGTERM"
        case SIGHUP: "SIGHUP"
        case SIGQUIT: "SIGQUIT"
        default: "SIGINT"
        }
    }
}
