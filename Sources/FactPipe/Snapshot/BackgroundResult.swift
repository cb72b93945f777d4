import Dispatch
import Synchronization

/// A value computed on a thread of its own while the caller goes on: a file synced, a copy checked,
/// a cache dropped. The result is kept under a `Mutex`, so the compiler checks that sharing it
/// between the two threads is safe.
final class BackgroundResult<Value: Sendable>: Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let result = Mutex<Result<Value, SnapshotError>?>(nil)

    /// Starts `body` on a thread of its own (or runs it here when the system refuses one), named `label`.
    init(label: String = "factpipe.background-result", _ body: @escaping @Sendable () throws(SnapshotError) -> Value) {
        OwnThread.startOrRunHere(label) { [self] in
            let outcome: Result<Value, SnapshotError>
            do throws(SnapshotError) {
                outcome = .success(try body())
            } catch {
                outcome = .failure(error)
            }
            result.withLock { $0 = outcome }
            done.signal()
        }
    }

    /// Waits for the value (at once when it was waited for before).
    /// - Throws: what `body` threw.
    func wait() throws(SnapshotError) -> Value {
        done.wait()
        done.signal()
        guard let outcome = result.withLock({ $0 }) else {
            throw SnapshotError(.io, path: "", "the background task did not run")
        }
        return try outcome.get()
    }
}
