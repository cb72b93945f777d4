import Dispatch
import FactPipe
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Turns SIGINT and SIGTERM into a request to stop the load cleanly instead of killing the process, and
/// sets SIGPIPE aside: a rejects pipe or FIFO whose reader went away (`--rejects >(head)`) is a write
/// that fails (EPIPE), so the load stops with its committed batches kept and its ledger saying why,
/// instead of the process dying mid-load with the ledger still saying `running`.
final class SignalTrap: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]
    /// The signal that arrived, 0 when none.
    let received = Atomic<Int32>(0)

    init(progress: ImportProgress) {
        Glibc.signal(SIGPIPE, SIG_IGN)
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            Glibc.signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            sources.append(source)
        }
        self.sources = sources
        for (source, number) in zip(sources, [SIGINT, SIGTERM]) {
            source.setEventHandler { [self] in
                self.received.store(number, ordering: .relaxed)
                progress.cancel()
            }
            source.resume()
        }
    }

    /// The signal number that stopped the load, if one did.
    var receivedSignal: Int32? {
        let value = received.load(ordering: .relaxed)
        return value == 0 ? nil : value
    }
}
