import Dispatch
import FactPipe
#if canImport(Glibc)
import Glibc
#endif

/// A progress line on standard error, redrawn twice a second, only when standard error is a terminal that
/// can move its cursor back (not `TERM=dumb`: an Emacs shell or a CI runner's log showed every redraw).
final class ProgressLine: @unchecked Sendable {
    private let timer: (any DispatchSourceTimer)?
    private let started = ContinuousClock.now

    init(progress: ImportProgress, enabled: Bool) {
        guard enabled, isatty(2) == 1, !Standard.terminalIsDumb else {
            timer = nil
            return
        }
        let timer = DispatchSource.makeTimerSource(queue: .global())
        self.timer = timer
        let started = self.started
        timer.schedule(deadline: .now() + .milliseconds(500), repeating: .milliseconds(500))
        timer.setEventHandler {
            let records = progress.committedRecords.load(ordering: .relaxed)
            let bytes = progress.inputBytes.load(ordering: .relaxed)
            let size = progress.inputSize.load(ordering: .relaxed)
            let seconds = (ContinuousClock.now - started).inSeconds
            var line = "\r\u{1B}[K  \(Format.count(records, "record"))  \(Format.count(Int(Double(records) / max(seconds, 0.001))))/s"
            line += "  \(Format.bytes(bytes)) read"
            if size > 0 { line += " of \(Format.bytes(size))" }
            Standard.errorControl(line)
        }
        timer.resume()
    }

    /// Writes `text` as lines of standard error above the progress line (cleared first, redrawn at its next tick).
    func printAbove(_ text: String) {
        if timer != nil { Standard.errorControl("\r\u{1B}[K") }
        Standard.error(text)
    }

    /// Stops redrawing and clears the line.
    func finish() {
        guard let timer else { return }
        timer.cancel()
        Standard.errorControl("\r\u{1B}[K")
    }
}
