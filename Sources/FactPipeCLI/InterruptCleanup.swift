import Dispatch
import FactPipe

#if canImport(Glibc)
    import Glibc
#endif

/// While it lives, SIGINT, SIGTERM and SIGHUP remove the temporary files of the running export, backup,
/// restore or verify and end the process with 130, 143 or 129: nothing half-written is left behind, and
/// no finished file is touched (they are renamed into place only when complete).
final class InterruptCleanup: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]

    init() {
        var sources: [any DispatchSourceSignal] = []
        for number in SignalTrap.stopSignals() {
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                TemporaryFiles.removeAll()
                Standard.error("factpipe: interrupted; temporary files removed")
                _exit(128 + number)
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
