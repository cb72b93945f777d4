import Dispatch
import FactPipe
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// While it lives, SIGINT, SIGTERM, SIGHUP and SIGQUIT stop a command that only reads (`stats`, `query`)
/// through its own end: what its connections run is interrupted (SQLite's statements, a PostgreSQL server's),
/// the command fails with 130, 143, 129 or 131 and, under `--json`, an object whose `status` is
/// `interrupted`, and its connections close as they would. Killed by the signal, it printed nothing and left
/// the `-wal` and `-shm` it had made beside the database. A second signal a second or more later ends the
/// process at once.
final class ReaderStop: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]
    private let received = Atomic<Int32>(0)
    private let firstAt = Atomic<UInt64>(0)

    init() {
        let numbers = SignalTrap.stopSignals()
        sources = numbers.map { DispatchSource.makeSignalSource(signal: $0, queue: .global()) }
        for (source, number) in zip(sources, numbers) {
            source.setEventHandler { [self] in
                let now = DispatchTime.now().uptimeNanoseconds
                guard received.compareExchange(expected: 0, desired: number, ordering: .sequentiallyConsistent).exchanged
                else {
                    let first = firstAt.load(ordering: .sequentiallyConsistent)
                    if first != 0, now &- first >= 1_000_000_000 { _exit(128 + number) }
                    return
                }
                firstAt.store(now, ordering: .sequentiallyConsistent)
                SQLiteInterrupts.interruptAll(andLaterOnes: true)
                SignalTrap.cancelServerStatements()
            }
            source.resume()
        }
    }

    deinit {
        for source in sources { source.cancel() }
    }

    /// True once a stop signal came.
    var isStopping: Bool { received.load(ordering: .sequentiallyConsistent) != 0 }

    /// `error` as the command should end with it: `CommandFailure.Interrupted` once a signal came.
    func failure(_ error: any Error) -> any Error {
        let number = received.load(ordering: .sequentiallyConsistent)
        return number == 0 ? error : CommandFailure.Interrupted(underlying: error, code: 128 + number)
    }

    /// Throws what the command ends with when a signal came while it worked and its work ended all the same
    /// (no statement was running to interrupt): it stops as asked, printing nothing more.
    func checkNotStopped(_ command: String, json: Bool) throws {
        let number = received.load(ordering: .sequentiallyConsistent)
        guard number != 0 else { return }
        throw CommandFailure.exit(
            command,
            CommandFailure.Interrupted(underlying: CommandFailure.Problem("interrupted by \(SignalTrap.name(of: number))"),
                                       code: 128 + number),
            json: json)
    }
}
