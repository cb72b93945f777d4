import Dispatch
import FactPipe

#if canImport(Glibc)
    import Glibc
#endif

/// While it lives, SIGINT, SIGTERM and SIGHUP remove the temporary files of the running export, backup,
/// restore or verify and end the process with 130, 143 or 129: nothing half-written is left behind, and
/// no finished file is touched (they are renamed into place only when complete). A signal that comes as
/// or after the result is put in place (`TemporaryFiles.puttingInPlace`) lets the command end as it would.
/// The command's SQLite connections are interrupted and the process ends once they are closed (two
/// seconds at most): ended with them open, an export or backup left the `-wal` and `-shm` it had made
/// beside the database, which later readers kept.
final class InterruptCleanup: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]

    init() {
        var sources: [any DispatchSourceSignal] = []
        for number in SignalTrap.stopSignals() {
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                // A finished file being put in place is let finish; once one is, the result stands and the
                // command ends as it would have (it said "interrupted" of a restore or export that was done).
                TemporaryFiles.endingForInterrupt { placed in
                    guard !placed else { return }
                    // The command's own end, reached as its statements fail, waits for this one.
                    SignalTrap.stoppingAtOnce.store(true, ordering: .sequentiallyConsistent)
                    TemporaryFiles.removeAll()
                    Standard.error("factpipe: interrupted; temporary files removed")
                    // What a PostgreSQL server runs for this process stops with it.
                    SignalTrap.cancelServerStatements()
                    SQLiteInterrupts.interruptAll(andLaterOnes: true)
                    _ = SQLiteInterrupts.waitUntilAllClosed(seconds: 2)
                    _exit(128 + number)
                }
            }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    deinit {
        for source in sources { source.cancel() }
    }
}
