import Dispatch
import FactPipe
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Turns SIGINT, SIGTERM and SIGHUP into a request to stop the load cleanly instead of killing the
/// process, and sets SIGPIPE aside: a rejects pipe or FIFO whose reader went away (`--rejects >(head)`)
/// is a write that fails (EPIPE), so the load stops with its committed batches kept and its ledger
/// saying why, instead of the process dying mid-load with the ledger still saying `running`.
final class SignalTrap: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]
    /// The signal that arrived, 0 when none.
    let received = Atomic<Int32>(0)

    init(progress: ImportProgress) {
        Glibc.signal(SIGPIPE, SIG_IGN)
        let numbers = Self.stopSignals()
        sources = numbers.map { DispatchSource.makeSignalSource(signal: $0, queue: .global()) }
        for (source, number) in zip(sources, numbers) {
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

    /// The signals that stop a command cleanly, each set to be ignored so that a Dispatch source takes it:
    /// SIGINT, SIGTERM, and SIGHUP (the terminal closed) unless the command was started ignoring it
    /// (`nohup`), which it then goes on doing.
    static func stopSignals() -> [Int32] {
        var numbers: [Int32] = []
        for number in [SIGINT, SIGTERM, SIGHUP] {
            let previous = Glibc.signal(number, SIG_IGN)
            let wasIgnored = previous.map { unsafeBitCast($0, to: Int.self) == 1 } ?? false
            if number == SIGHUP && wasIgnored { continue }
            numbers.append(number)
        }
        return numbers
    }

    /// `SIGINT`, `SIGTERM` or `SIGHUP`.
    static func name(of number: Int32) -> String {
        switch number {
        case SIGTERM: "SIGTERM"
        case SIGHUP: "SIGHUP"
        default: "SIGINT"
        }
    }
}
