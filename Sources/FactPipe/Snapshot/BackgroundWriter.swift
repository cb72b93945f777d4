import Dispatch
import Synchronization

/// Hands bytes to another sink on a thread of its own, so that writing them out overlaps with
/// producing them (decoding and hashing an archive while the restored file is written).
///
/// ```
/// producer ──write──▶ [pieces, capacity 4] ──▶ writer thread ──▶ sink
/// ```
/// At most `capacity` pieces wait, so a slow disk holds the producer back and memory stays at a
/// few pieces; written pieces' buffers are handed back and reused (a fresh megabyte a piece would
/// cost a page fault every 4 KiB). The first error of the sink stops the thread; the next `write`
/// or `finish` throws it.
final class BackgroundWriter: ArchiveSink {
    /// Pieces waiting to be written.
    static let capacity = 4

    private let queue = BoundedQueue<[UInt8]>(name: "restored bytes", capacity: BackgroundWriter.capacity)
    private let done = DispatchSemaphore(value: 0)
    private let state = WriterState()
    private var isRunning = true
    /// Set when the system refused the thread: `write` then writes to the sink itself.
    private var sinkHere: (any ArchiveSink)?

    /// Starts the thread that writes to `sink`; only that thread uses the sink until `finish()` or
    /// `stop()` returns.
    init(sink: any ArchiveSink) {
        let target = SinkBox(sink)
        let started: Void? = try? OwnThread.start("restored file's writer") { [queue, done, state] in
            while var piece = queue.pop() {
                do throws(SnapshotError) {
                    try piece.withRawBytes { raw throws(SnapshotError) in try target.sink.write(raw) }
                } catch {
                    state.failure.withLock { $0 = error }
                    queue.cancel()
                    break
                }
                piece.removeAll(keepingCapacity: true)
                state.spare.withLock { spare in
                    if spare.count <= BackgroundWriter.capacity { spare.append(piece) }
                }
            }
            done.signal()
        }
        if started == nil {
            sinkHere = sink
            done.signal()
        }
    }

    deinit {
        stop()
    }

    /// Queues a copy of `bytes`, waiting while the queue is full.
    /// - Throws: the sink's `SnapshotError` once it has failed.
    func write(_ bytes: UnsafeRawBufferPointer) throws(SnapshotError) {
        if let error = state.failure.withLock({ $0 }) { throw error }
        if let sinkHere {
            do throws(SnapshotError) {
                try sinkHere.write(bytes)
            } catch {
                state.failure.withLock { $0 = error }
                throw error
            }
            return
        }
        var piece = state.spare.withLock { $0.popLast() } ?? []
        piece.append(contentsOf: bytes)
        if !queue.push(piece) {
            throw state.failure.withLock({ $0 }) ?? SnapshotError(.io, path: queue.name, "the writer stopped")
        }
    }

    /// Waits until every queued piece is written.
    /// - Throws: the sink's `SnapshotError` when a write failed.
    func finish() throws(SnapshotError) {
        guard isRunning else { return }
        isRunning = false
        queue.close()
        done.wait()
        if let error = state.failure.withLock({ $0 }) { throw error }
    }

    /// Drops what is queued and waits for the thread to end (on failure paths).
    func stop() {
        guard isRunning else { return }
        isRunning = false
        queue.cancel()
        done.wait()
    }
}

/// The first error of the writer thread, and the buffers it hands back.
private final class WriterState: Sendable {
    let failure = Mutex<SnapshotError?>(nil)
    /// Buffers of written pieces, empty, for the next ones.
    let spare = Mutex<[[UInt8]]>([])
}

/// Carries a sink to the writer thread, the only thread that uses it once handed over.
private final class SinkBox: @unchecked Sendable {
    let sink: any ArchiveSink

    init(_ sink: any ArchiveSink) {
        self.sink = sink
    }
}
