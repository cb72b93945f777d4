import Foundation
import Testing

@testable import FactPipe

/// The frame layout read from frame and block headers, on files written by the `zstd` tool.
@Suite struct ZstdFrameLayoutTests {
    private func scan(_ path: String) throws -> ZstdFrameLayout? {
        let input = try ArchiveInput(path: path)
        return try ZstdFrameLayout.scan(input, end: input.size)
    }

    /// Two files compressed by `zstd` (which records the size of a file it reads) and concatenated,
    /// with a skippable frame between them.
    private func twoFrames(_ work: LoadWorkspace) throws -> (path: String, first: [UInt8], second: [UInt8]) {
        let first = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 * 7 / 5) }
        let second = Array(repeating: UInt8(0), count: 200_000) + Array("tail".utf8)
        try write(first, to: work.path("a"))
        try write(second, to: work.path("b"))
        try zstdCLI(work.path("a"), work.path("a.zst"))
        try zstdCLI(work.path("b"), work.path("b.zst"))
        let skippable: [UInt8] = [0x50, 0x2A, 0x4D, 0x18, 3, 0, 0, 0, 1, 2, 3]
        let path = work.path("two.zst")
        try write(try bytes(work.path("a.zst")) + skippable + (try bytes(work.path("b.zst"))), to: path)
        return (path, first, second)
    }

    @Test func framesThatRecordTheirSizeAreLaidOutAndSkippableFramesPassedOver() throws {
        let work = try LoadWorkspace()
        let (path, first, second) = try twoFrames(work)
        let layout = try #require(try scan(path))
        let firstSize = Int64(try bytes(work.path("a.zst")).count)
        #expect(layout.frames.count == 2)
        #expect(layout.contentBytes == Int64(first.count + second.count))
        #expect(layout.frames.first?.fileOffset == 0)
        #expect(layout.frames.first?.compressedBytes == firstSize)
        #expect(layout.frames.first?.contentBytes == Int64(first.count))
        #expect(layout.frames.last?.fileOffset == firstSize + 11)
        #expect(layout.frames.last?.contentOffset == Int64(first.count))
        #expect(layout.frames.last?.contentBytes == Int64(second.count))
        #expect(layout.frames.last.map { $0.fileOffset + $0.compressedBytes } == Int64(try bytes(path).count))
        #expect(layout.largestWindowBytes > 0 && layout.largestWindowBytes <= Int64(first.count))
    }

    @Test func decodingThreadsStayWithinTheMemoryBudgetWhateverTheFrames() {
        let frame = ZstdFrameLayout.Frame(fileOffset: 0, compressedBytes: 1, contentOffset: 0, contentBytes: 1 << 30)
        let cores = max(1, min(ProcessInfo.processInfo.activeProcessorCount, ResourceUsage.onlineCores))
        for window: Int64 in [1 << 10, 2 << 20, 8 << 20, 32 << 20, 1 << 30] {
            let layout = ZstdFrameLayout(frames: [frame, frame], contentBytes: 2 << 30, largestWindowBytes: window)
            let threads = ParallelFrameDecoder.threads(for: layout)
            let perThread = window + Int64(ParallelFrameDecoder.inputBytes + ParallelFrameDecoder.outputBytes)
            #expect(threads >= 1 && threads <= cores, "window \(window)")
            #expect(threads == 1 || Int64(threads) * perThread <= ParallelFrameDecoder.memoryBudget, "window \(window)")
        }
        // A backup's frames at the default level (2 MiB windows): one thread a core, up to more than eight.
        let usual = ZstdFrameLayout(frames: [frame, frame], contentBytes: 2 << 30, largestWindowBytes: 2 << 20)
        #expect(ParallelFrameDecoder.threads(for: usual) >= min(cores, 8))
    }

    @Test func aStreamedFrameHasNoLayout() throws {
        let work = try LoadWorkspace()
        try write(Array(repeating: UInt8(ascii: "x"), count: 100_000), to: work.path("x"))
        let path = work.path("x.zst")
        try runTool("/bin/sh", ["-c", "/usr/bin/zstd -q -c < '\(work.path("x"))' > '\(path)'"])
        #expect(try scan(path) == nil)
    }

    @Test func aCutOrDamagedStreamIsNamed() throws {
        let work = try LoadWorkspace()
        let (path, _, _) = try twoFrames(work)
        let whole = try bytes(path)
        let firstSize = try bytes(work.path("a.zst")).count
        for keep in [firstSize - 1, firstSize + 5, whole.count - 3] {
            try write(Array(whole.prefix(keep)), to: work.path("cut.zst"))
            let error = snapshotError { try scan(work.path("cut.zst")) }
            #expect(error?.kind == .truncated, "kept \(keep): \(String(describing: error))")
        }
        try write(whole + Array("not zstd".utf8), to: work.path("garbage.zst"))
        #expect(snapshotError { try scan(work.path("garbage.zst")) }?.kind == .corruptFrame)
    }
}
