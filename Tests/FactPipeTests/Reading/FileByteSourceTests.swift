import Foundation
import Testing
import Synchronization
@testable import FactPipe

@Test func fileSourceReadsWholeFileAndCountsBytes() throws {
    let dir = try TemporaryDirectory()
    let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    let path = try dir.write("data.bin", bytes)
    let source = try FileByteSource(path: path)
    #expect(source.fileSize == 300_000)
    #expect(source.name == path)
    var collected: [UInt8] = []
    let block = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 1)
    defer { block.deallocate() }
    while true {
        let got = try source.read(into: block)
        if got == 0 {
            break
        }
        collected += block[0..<got]
    }
    #expect(collected == bytes)
    #expect(source.bytesRead == 300_000)
}

@Test func lookaheadBytesAreReadAgain() throws {
    let dir = try TemporaryDirectory()
    let path = try dir.write("small.txt", "hello world")
    let source = try FileByteSource(path: path)
    #expect(try source.lookahead(4) == Array("hell".utf8))
    #expect(try source.lookahead(20) == Array("hello world".utf8))
    let block = UnsafeMutableRawBufferPointer.allocate(byteCount: 3, alignment: 1)
    defer { block.deallocate() }
    var collected: [UInt8] = []
    while case let got = try source.read(into: block), got > 0 {
        collected += block[0..<got]
    }
    #expect(collected == Array("hello world".utf8))
}

@Test func missingFileAndDirectoryCannotBeOpened() throws {
    let dir = try TemporaryDirectory()
    let missing = dir.path("nope.ndjson")
    let error = #expect(throws: ReadError.self) { try InputReader(path: missing, limits: .default) }
    #expect(error?.kind == .cannotOpen)
    #expect(error?.description.hasPrefix("\(missing): cannot open: No such file") == true)
    let directory = #expect(throws: ReadError.self) { try FileByteSource(path: dir.url.path) }
    #expect(directory?.kind == .cannotOpen)
}

@Test func dashMeansStandardInputAndIsNotClosed() throws {
    do {
        let source = try FileByteSource(path: "-")
        #expect(source.name == "-")
    }
    // Releasing the source must leave descriptor 0 open.
    #expect(fcntl(0, F_GETFD) != -1)
}

/// Writes `bytes` to the write end of a pipe from another thread and closes it.
private func feedPipe(_ bytes: [UInt8]) throws -> (readEnd: Int32, writer: Thread) {
    var ends: [Int32] = [0, 0]
    guard pipe(&ends) == 0 else {
        throw ToolFailure(description: "pipe failed")
    }
    let writeEnd = ends[1]
    // If a test stops reading early, the writer must get EPIPE rather than kill the process.
    signal(SIGPIPE, SIG_IGN)
    let writer = Thread {
        var written = 0
        bytes.withUnsafeBytes { raw in
            while written < raw.count {
                let result = write(writeEnd, raw.baseAddress.map { $0 + written }, raw.count - written)
                if result <= 0 {
                    break
                }
                written += result
            }
        }
        close(writeEnd)
    }
    writer.start()
    return (ends[0], writer)
}

@Test func readsNDJSONFromAPipe() throws {
    var text = ""
    for index in 0..<20_000 {
        text += "{\"n\":\(index)}\n"
    }
    let (readEnd, _) = try feedPipe(Array(text.utf8))
    let reader = try InputReader(
        source: FileByteSource(fileDescriptor: readEnd, name: "-", closeWhenDone: true), limits: .default)
    #expect(reader.sourceSize == nil)
    #expect(reader.compression == .none)
    let records = try readAll(reader).records
    #expect(records.count == 20_000)
    #expect(records.last == SeenRecord(text: "{\"n\":19999}", line: 20_000, offset: Int64(text.utf8.count - 12)))
    #expect(reader.rawBytesRead == Int64(text.utf8.count))
}

@Test func readsZstdFromAPipe() throws {
    let text = (1...5000).map { "line \($0)" }.joined(separator: "\n")
    let (readEnd, _) = try feedPipe(try zstdFrame(Array(text.utf8)))
    let reader = try InputReader(
        source: FileByteSource(fileDescriptor: readEnd, name: "-", closeWhenDone: true), limits: .default)
    #expect(reader.compression == .zstd)
    let records = try readAll(reader).records
    #expect(records.map(\.text) == (1...5000).map { "line \($0)" })
}

@Test func aFileTruncatedWhileItIsReadThrowsInsteadOfEndingEarly() throws {
    let dir = try TemporaryDirectory()
    let path = try dir.write("shrinking.bin", [UInt8](repeating: 0x41, count: 200_000))
    let source = try FileByteSource(path: path)
    let block = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 1)
    defer { block.deallocate() }
    #expect(try source.read(into: block) == 65_536)
    #expect(truncate(path, 100_000) == 0)
    #expect(try source.read(into: block) == 34_464)
    do {
        _ = try source.read(into: block)
        Issue.record("the early end of a truncated file was taken for its end")
    } catch {
        #expect(error.kind == .io)
        #expect(error.description
                == "\(path): the file shrank while it was read: it ended after 100000 of its 200000 bytes")
    }
}

@Test func aFileThatGrowsWhileItIsReadIsReadToItsNewEnd() throws {
    let dir = try TemporaryDirectory()
    let path = try dir.write("growing.txt", "first\n")
    let source = try FileByteSource(path: path)
    let handle = try #require(FileHandle(forWritingAtPath: path))
    try handle.seekToEnd()
    try handle.write(contentsOf: Data("second\n".utf8))
    try handle.close()
    let block = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 1)
    defer { block.deallocate() }
    var collected: [UInt8] = []
    while case let got = try source.read(into: block), got > 0 {
        collected += block[0..<got]
    }
    #expect(collected == Array("first\nsecond\n".utf8))
}

/// A read of a pipe that waits for bytes ends when the load is cancelled, and takes none of the bytes that
/// come later: left blocked in `read(2)`, a cancelled load's reader took the start of what the next load of
/// standard input in the same process was to read.
@Test func aCancelledReadOfAPipeEndsAndLeavesLaterBytesToTheNextReader() throws {
    var ends: [Int32] = [0, 0]
    try #require(pipe(&ends) == 0)
    defer { close(ends[0]); close(ends[1]) }
    let reading = UnsafeSendable(FileByteSource(fileDescriptor: ends[0], name: "-", closeWhenDone: false))
    let wait = CancelledWait { isCancelled in
        reading.value.isCancelled = isCancelled
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 1)
        defer { block.deallocate() }
        return "read \(try reading.value.read(into: block)) bytes"
    }
    let stopped = wait.cancelAfterAMoment()
    #expect(stopped, "the read still waits after the cancel")
    #expect(wait.said.contains("stopped while waiting for input"), "\(wait.said)")
    // What the next reader of the input gets: every byte written after the cancel.
    let text = Array("IsA(Dog, Animal).\n".utf8)
    #expect(write(ends[1], text, text.count) == text.count)
    if !stopped { wait.waitLonger() }  // the old reader took the bytes: let it end first
    var received = [UInt8](repeating: 0, count: 64)
    let flags = fcntl(ends[0], F_GETFL)
    _ = fcntl(ends[0], F_SETFL, flags | O_NONBLOCK)
    let count = read(ends[0], &received, received.count)
    #expect(count == text.count && Array(received.prefix(max(count, 0))) == text)
}

/// A FIFO no writer has opened yet: a cancel ends the wait, and the FIFO is left with no reader (a writer's
/// non-blocking open fails with `ENXIO`). Opened the usual way, the reader stayed in `open(2)`, which no
/// cancel reaches, and counted as the FIFO's reader until a writer came, whose bytes it then took.
@Test func aCancelledWaitForAFIFOsWriterEndsAndLeavesTheFIFOWithoutAReader() throws {
    let (dir, fifo) = try folderWithAFIFO()
    defer { withExtendedLifetime(dir) {} }
    let wait = CancelledWait { isCancelled in
        "opened \(try FileByteSource(path: fifo, isCancelled: isCancelled).name)"
    }
    let stopped = wait.cancelAfterAMoment()
    #expect(stopped, "the open still waits for a writer after the cancel")
    #expect(wait.said.contains("stopped while waiting for input"), "\(wait.said)")
    let writer = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
    let code = errno
    if writer >= 0 { close(writer) }
    #expect(writer < 0 && code == ENXIO, "the FIFO still has a reader")
    if !stopped { wait.waitLonger() }
}

/// Opened without waiting, a FIFO still reads as before: a writer that comes later is waited for and read to
/// its end, and one that comes and goes without writing gives an empty input, not an error.
@Test func aFIFOWhoseWriterComesLaterIsReadWhole() throws {
    let (dir, fifo) = try folderWithAFIFO()
    defer { withExtendedLifetime(dir) {} }
    for text in ["IsA(Dog, Animal).\nIsA(Cat, Animal).\n", ""] {
        Thread.detachNewThread {
            usleep(200_000)
            let writer = open(fifo, O_WRONLY | O_CLOEXEC)
            guard writer >= 0 else { return }
            let bytes = Array(text.utf8)
            if !bytes.isEmpty {
                _ = write(writer, bytes, 5)
                usleep(100_000)
                _ = write(writer, Array(bytes[5...]), bytes.count - 5)
            }
            close(writer)
        }
        let source = try FileByteSource(path: fifo, isCancelled: { false })
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 1)
        defer { block.deallocate() }
        var collected: [UInt8] = []
        while case let got = try source.read(into: block), got > 0 {
            collected += block[0..<got]
        }
        #expect(collected == Array(text.utf8))
    }
}

/// A wait for input on a thread of its own, given an `isCancelled` to ask, cancelled by the test.
private final class CancelledWait: Sendable {
    private let cancelled = Atomic<Bool>(false)
    private let ended = DispatchSemaphore(value: 0)
    private let outcome = Mutex<String>("")

    /// Starts `body`, which says what it got, or throws why it stopped.
    init(_ body: @escaping @Sendable (@escaping @Sendable () -> Bool) throws -> String) {
        Thread.detachNewThread { [self] in
            do {
                let got = try body { [self] in cancelled.load(ordering: .relaxed) }
                outcome.withLock { $0 = got }
            } catch {
                outcome.withLock { $0 = "\(error)" }
            }
            ended.signal()
        }
    }

    /// Cancels 150 ms after the start and waits up to 3 s for the wait to end; false when it did not.
    func cancelAfterAMoment() -> Bool {
        usleep(150_000)
        cancelled.store(true, ordering: .relaxed)
        return ended.wait(timeout: .now() + 3) == .success
    }

    /// Waits 3 s more for a wait the cancel did not end (a writer came meanwhile).
    func waitLonger() { _ = ended.wait(timeout: .now() + 3) }

    /// What the wait got, or why it stopped.
    var said: String { outcome.withLock { $0 } }
}

/// A fresh folder holding a FIFO named `incoming.fifo`, and the FIFO's path.
private func folderWithAFIFO() throws -> (TemporaryDirectory, String) {
    let dir = try TemporaryDirectory()
    let fifo = dir.path("incoming.fifo")
    try #require(mkfifo(fifo, 0o600) == 0)
    return (dir, fifo)
}

/// A value handed to another thread in a test, used by one thread at a time.
private struct UnsafeSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
