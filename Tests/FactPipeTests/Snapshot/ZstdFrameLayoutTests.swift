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

    /// Read system calls this thread has made so far (`syscr` in /proc/thread-self/io).
    private func readCallsByThisThread() throws -> Int {
        let text = try String(contentsOfFile: "/proc/thread-self/io", encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("syscr:") })
        return try #require(Int(line.dropFirst("syscr:".count).trimmingCharacters(in: .whitespaces)))
    }

    /// The block headers were read three bytes at a time, one system call each: a frame of many small
    /// blocks took as many calls as blocks to lay out. They are read from a window of the file now.
    @Test func aFrameOfManySmallBlocksIsLaidOutInFewReads() throws {
        let work = try LoadWorkspace()
        // One frame recording its size (100,000, in 4 bytes), its window 1 MiB, then 100,000 runs of one byte
        // each: a 3-byte block header (last flag, type 1, size 1) and the byte.
        let blocks = 100_000
        var frame: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0x80, 0x50]
        frame += withUnsafeBytes(of: UInt32(blocks).littleEndian) { Array($0) }
        for index in 0..<blocks {
            let header = (index == blocks - 1 ? 1 : 0) | 1 << 1 | 1 << 3
            frame += [UInt8(header & 0xFF), UInt8(header >> 8 & 0xFF), UInt8(header >> 16), 0x41]
        }
        let path = work.path("runs.zst")
        try write(frame, to: path)
        try runTool("/usr/bin/zstd", ["-d", "-q", "-f", path, "-o", work.path("runs")])
        #expect(try bytes(work.path("runs")) == Array(repeating: 0x41, count: blocks))

        let input = try ArchiveInput(path: path)
        let before = try readCallsByThisThread()
        let layout = try #require(try ZstdFrameLayout.scan(input, end: input.size))
        let calls = try readCallsByThisThread() - before
        #expect(layout.contentBytes == Int64(blocks) && layout.frames.count == 1)
        #expect(layout.frames.first?.compressedBytes == Int64(frame.count))
        #expect(calls < 1_000, "\(calls) reads for \(blocks) blocks")
    }
}
