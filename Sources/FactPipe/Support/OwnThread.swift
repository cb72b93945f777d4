#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A thread of its own for one task, made with `pthread_create` so that a refusal is seen.
///
/// libdispatch retries a worker thread it cannot create for ever: with the process and thread limit
/// reached (`ulimit -u`, a container's pids limit) or no room for a stack (`ulimit -v`), a load waited on
/// stages that never started, holding the writer lock, and no signal ended it (their handlers wait for a
/// thread too). Started this way, a stage that cannot run fails the command at once, and work that can
/// be done on the caller's thread is done there.
public enum OwnThread {
    /// The system refused a thread.
    public struct CannotStart: Error, Sendable, CustomStringConvertible {
        public var name: String
        public var code: Int32

        public var description: String {
            "cannot start a thread for the \(name): \(String(cString: strerror(code))) (the limit of processes and "
                + "threads — ulimit -u, a container's pids limit — or of memory — ulimit -v — is reached)"
        }
    }

    private final class Task: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    /// Runs `body` on a new thread (detached: it ends when `body` returns).
    /// - Throws: `CannotStart` when the system refuses the thread; `body` has not run then.
    public static func start(_ name: String, _ body: @escaping @Sendable () -> Void) throws(CannotStart) {
        let task = Unmanaged.passRetained(Task(body)).toOpaque()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        var thread = pthread_t()
        let code = pthread_create(&thread, &attributes, { context in
            if let context { Unmanaged<Task>.fromOpaque(context).takeRetainedValue().body() }
            return nil
        }, task)
        guard code == 0 else {
            Unmanaged<Task>.fromOpaque(task).release()
            throw CannotStart(name: name, code: code)
        }
    }

    /// Runs `body` on a new thread, or on this one, to its end, when the system refuses one. Returns true
    /// when it started a thread.
    @discardableResult
    public static func startOrRunHere(_ name: String, _ body: @escaping @Sendable () -> Void) -> Bool {
        do {
            try start(name, body)
            return true
        } catch {
            body()
            return false
        }
    }
}
