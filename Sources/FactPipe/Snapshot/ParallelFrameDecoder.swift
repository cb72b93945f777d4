import CZstd
import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Decodes the frames of a zstd stream on several threads at once, each frame into its own place in
/// the output file: a backup's frames each record their content size, so where each one's bytes go
/// is known before any is decoded (`ZstdFrameLayout`).
///
/// ```
///                   ┌─▶ thread 1: pread frame i ─▶ ZSTD_decompressStream ─▶ 1 MiB ─▶ pwrite at its offset ─┐
/// next frame index ─┤                                                                                     ├─▶ file
///                   └─▶ thread N: pread frame j ─▶ ZSTD_decompressStream ─▶ 1 MiB ─▶ pwrite at its offset ─┘
/// ```
/// Each thread takes the next frame not yet taken, streams it through its own decoder in small
/// pieces (its memory is the decoder's window, at most the frame's content, and two buffers; never
/// the file), and writes it sparse, as `zstd -d` would. Every frame must end exactly where the
/// layout says, with its checksum and its content size right; the first failure stops every thread.
final class ParallelFrameDecoder: Sendable {
    /// Compressed bytes read at a time.
    static let inputBytes = 256 << 10
    /// Decoded bytes written at a time.
    static let outputBytes = 1 << 20

    private let layout: ZstdFrameLayout
    private let archive: Int32
    private let archiveName: String
    private let output: SparseFileWriter
    private let threads: Int
    private let nextFrame = Atomic<Int>(0)
    private let failure = Mutex<SnapshotError?>(nil)
    private let isStopped = Atomic<Bool>(false)
    private let group = DispatchGroup()

    /// A decoder of `layout`'s frames, read from the open archive `archive` (named `archiveName` in
    /// messages) and written through `output`, on `threads` threads. The archive must stay open and
    /// the output writable until `wait()` returns.
    init(layout: ZstdFrameLayout, archive: Int32, archiveName: String, output: SparseFileWriter, threads: Int) {
        self.layout = layout
        self.archive = archive
        self.archiveName = archiveName
        self.output = output
        self.threads = max(1, min(threads, layout.frames.count))
    }

    /// Starts the threads; returns at once.
    func start() {
        for index in 0..<threads {
            group.enter()
            do {
                try OwnThread.start("frame decoder") { [self] in
                    work()
                    group.leave()
                }
            } catch {
                group.leave()
                // Each thread takes frames until none is left: the ones started do it all, and with none,
                // this thread does.
                if index == 0 { work() }
                break
            }
        }
    }

    /// Waits for every thread; then every frame is written. The first failure stops the others, so
    /// they are all done when it is thrown.
    /// - Throws: the first failure: `SnapshotError` `.corruptFrame` when a frame does not decode (a
    ///   bad block, checksum or content size), `.compression` when a decoder cannot be made, `.io`.
    func wait() throws(SnapshotError) {
        group.wait()
        if let error = failure.withLock({ $0 }) { throw error }
    }

    /// One thread: frames, one after another, until none is left or one fails.
    private func work() {
        guard let context = ZSTD_createDCtx() else {
            fail(SnapshotError(.compression, path: archiveName, "cannot create a zstd decoder"))
            return
        }
        let input = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.inputBytes, alignment: 16)
        let decoded = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.outputBytes, alignment: 16)
        defer {
            ZSTD_freeDCtx(context)
            input.deallocate()
            decoded.deallocate()
        }
        while !isStopped.load(ordering: .relaxed) {
            let index = nextFrame.add(1, ordering: .relaxed).oldValue
            guard index < layout.frames.count else { return }
            do throws(SnapshotError) {
                try decode(layout.frames[index], number: index, context, input, decoded)
            } catch {
                fail(error)
                return
            }
        }
    }

    private func fail(_ error: SnapshotError) {
        failure.withLock { first in
            if first == nil { first = error }
        }
        isStopped.store(true, ordering: .relaxed)
    }

    /// Decodes one frame into its place in the output.
    private func decode(
        _ frame: ZstdFrameLayout.Frame, number: Int, _ context: OpaquePointer,
        _ input: UnsafeMutableRawBufferPointer, _ decoded: UnsafeMutableRawBufferPointer
    ) throws(SnapshotError) {
        ZSTD_DCtx_reset(context, ZSTD_reset_session_only)
        let frameEnd = frame.fileOffset + frame.compressedBytes
        var readOffset = frame.fileOffset
        var source = ZSTD_inBuffer(src: input.baseAddress, size: 0, pos: 0)
        var produced: Int64 = 0
        while true {
            if source.pos == source.size && readOffset < frameEnd {
                let wanted = Int(min(Int64(input.count), frameEnd - readOffset))
                let got = try ArchiveInput.read(
                    archive, at: readOffset, into: UnsafeMutableRawBufferPointer(rebasing: input[0..<wanted]),
                    name: archiveName)
                guard got == wanted else {
                    throw SnapshotError(
                        .truncated, path: archiveName,
                        "truncated: the file ends inside compressed frame \(number + 1) (at byte \(readOffset + Int64(got)))"
                    )
                }
                source = ZSTD_inBuffer(src: input.baseAddress, size: got, pos: 0)
                readOffset += Int64(got)
            }
            var target = ZSTD_outBuffer(dst: decoded.baseAddress, size: decoded.count, pos: 0)
            let remaining = ZSTD_decompressStream(context, &target, &source)
            if ZSTD_isError(remaining) != 0 {
                if ZSTD_getErrorCode(remaining) == ZSTD_error_memory_allocation {
                    // Memory the decoder could not have (ulimit -v, a cgroup's limit): not the archive's fault.
                    throw SnapshotError(
                        .io, path: archiveName,
                        "not enough memory to decode frame \(number + 1) of \(layout.frames.count): \(Self.errorName(remaining))"
                            + " (the archive itself is not judged; free memory or raise the limit, and run again)")
                }
                throw corrupt(frame, number, produced + Int64(target.pos), Self.errorName(remaining))
            }
            if target.pos > 0 {
                guard produced + Int64(target.pos) <= frame.contentBytes else {
                    throw corrupt(frame, number, produced, "more content than its header records")
                }
                try output.write(
                    UnsafeRawBufferPointer(start: decoded.baseAddress, count: target.pos),
                    at: frame.contentOffset + produced)
                produced += Int64(target.pos)
            }
            if remaining == 0 { break }  // the frame is decoded, checksum checked, and flushed
            if target.pos == 0 && source.pos == source.size && readOffset == frameEnd {
                throw corrupt(frame, number, produced, "the frame's data ends before the frame does")
            }
            if isStopped.load(ordering: .relaxed) { return }
        }
        guard source.pos == source.size && readOffset == frameEnd, produced == frame.contentBytes else {
            throw corrupt(frame, number, produced, "the frame does not end where its blocks say")
        }
    }

    private func corrupt(_ frame: ZstdFrameLayout.Frame, _ number: Int, _ produced: Int64, _ reason: String)
        -> SnapshotError
    {
        SnapshotError(
            .corruptFrame, path: archiveName,
            "corrupted frame: zstd data corrupt in frame \(number + 1) of \(layout.frames.count) (at byte "
                + "\(frame.fileOffset)): \(reason) after \(frame.contentOffset + produced) decoded bytes")
    }

    private static func errorName(_ code: Int) -> String {
        ZSTD_getErrorName(code).map { String(cString: $0) } ?? "error \(code)"
    }

    /// What the decoding threads may hold together, whatever the database's size.
    static let memoryBudget: Int64 = 64 << 20

    /// Threads for `layout`: one a core this process may use (its CPU affinity and quota), as many as
    /// fit in `memoryBudget` (a thread holds the frames' window and its two buffers), at least one.
    static func threads(for layout: ZstdFrameLayout) -> Int {
        let cores = max(1, min(ProcessInfo.processInfo.activeProcessorCount, ResourceUsage.onlineCores))
        let perThread = layout.largestWindowBytes + Int64(inputBytes + outputBytes) + (1 << 20)
        return max(1, min(cores, Int(memoryBudget / perThread)))
    }
}
