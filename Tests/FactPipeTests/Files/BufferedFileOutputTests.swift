import Foundation
import Testing

@testable import FactPipe

@Suite struct BufferedFileOutputTests {
    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("factpipe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A pipe whose reader went away is `EPIPE` for the writer, and no SIGPIPE is left for the process:
    /// raised, its default action ended a program embedding the library (a rejects FIFO whose reader left).
    /// Held back on this thread for the test, a signal the write raised would be seen pending here instead.
    @Test func aPipeWhoseReaderLeftIsAnErrorNotASignal() throws {
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        close(ends[0])
        defer { close(ends[1]) }
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &pipeSignal, &previous)
        defer {
            var now = timespec(tv_sec: 0, tv_nsec: 0)
            while sigtimedwait(&pipeSignal, nil, &now) > 0 {}
            pthread_sigmask(SIG_SETMASK, &previous, nil)
        }
        // A rejects file that is such a pipe.
        let output = BufferedFileOutput(descriptor: ends[1], name: "rejects")
        try output.write("x\n")
        #expect { try output.flush() } throws: { ($0 as? FileOutputError)?.code == EPIPE }
        var pending = sigset_t()
        sigpending(&pending)
        #expect(sigismember(&pending, SIGPIPE) == 0, "the write left a SIGPIPE for the process")
        // A report or metrics file written in place into such a pipe (`--report /dev/stdout` of a pipe).
        #expect(throws: FileOutputError.self) { try AtomicFile.write("{}\n", to: "/dev/fd/\(ends[1])") }
        sigpending(&pending)
        #expect(sigismember(&pending, SIGPIPE) == 0, "the report's write left a SIGPIPE for the process")
    }

    @Test func writesEveryByteThroughASmallBuffer() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("out.bin").path
        let output = try BufferedFileOutput(path: path, capacity: 7)
        var expected: [UInt8] = []
        for index in 0..<500 {
            let chunk = [UInt8](repeating: UInt8(index % 251), count: index % 13)
            expected += chunk
            try output.write(chunk)
        }
        try output.close()
        #expect(output.bytesWritten == Int64(expected.count))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(expected))
    }

    /// Truncating drops what came after `size`; a file someone made shorter meanwhile is not padded with
    /// zero bytes up to `size` (a rejects file moved away before a --resume became NULs, then new lines).
    @Test func truncateNeverLengthensTheFile() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("rejects.ndjson").path
        let output = try BufferedFileOutput(path: path, append: true)
        try output.write(Array("kept\nrolled back\n".utf8))
        try output.flush()
        try output.truncate(to: 5)
        #expect(output.bytesWritten == 5)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "kept\n")

        try "new\n".write(toFile: path, atomically: false, encoding: .utf8)  // cut by someone else
        try output.truncate(to: 100)
        #expect(output.bytesWritten == 4)
        try output.write(Array("after\n".utf8))
        try output.close()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new\nafter\n")
    }

    /// Appending to a file another process appends to as well, the output's end is where its last write
    /// ended in the file, past the other's lines: a rollback to it cuts only what came after.
    @Test func anAppendingOutputEndsWhereItsLastWriteEndedInTheFile() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("rejects.ndjson").path
        let output = try BufferedFileOutput(path: path, append: true)
        try output.write(Array("mine 1\n".utf8))
        try output.flush()
        let other = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try other.seekToEnd()
        try other.write(contentsOf: Data("theirs\n".utf8))
        try other.close()
        try output.write(Array("mine 2\n".utf8))
        try output.flush()
        #expect(output.bytesWritten == 21)
        let committed = output.bytesWritten
        try output.write(Array("rolled back\n".utf8))
        try output.flush()
        try output.truncate(to: committed)
        try output.close()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "mine 1\ntheirs\nmine 2\n")
    }

    @Test func generatorWritesTheSameBytesToAFileAsInMemory() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for format in FactGenerator.Format.allCases {
            let path = directory.appendingPathComponent("facts.\(format)").path
            let options = FactGenerator.Options(seed: 99, format: format, invalidRate: 0.05)
            var generator = FactGenerator(options: options)
            let summary = try generator.write(count: 3_000, to: BufferedFileOutput(path: path, capacity: 4_096))
            var reference = FactGenerator(options: options)
            var expected = Array(FactGenerator.preamble(format: format, count: 3_000, seed: 99).utf8)
            for _ in 0..<3_000 { reference.next().encode(as: format, into: &expected) }
            let written = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect(written == Data(expected))
            #expect(summary.bytes == Int64(expected.count))
            #expect(summary.records == 3_000)
            #expect(summary == generator.summary.with(bytes: summary.bytes))
        }
    }

    /// A signal's cleanup may remove the generator's temporary file between its creation and the buffered
    /// output's open (the generator of a killed scale test is stopped as it starts): the open must not
    /// make it again, or the process ends leaving an empty temporary file behind.
    @Test func aGeneratorWhoseTemporaryFileWasRemovedWritesNothingAndLeavesNothing() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("facts.csv").path
        let file = try AtomicFileOutput(path: path, hashes: false)
        let temporary = try #require(file.temporaryPath)
        #expect(unlink(temporary) == 0)
        var generator = FactGenerator(seed: 3)
        let error = #expect(throws: FileOutputError.self) {
            try generator.write(count: 100, into: file, path: path)
        }
        #expect(error?.code == ENOENT)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == [])
    }

    @Test func missingDirectoryFailsToOpenWithTheReason() throws {
        let error = #expect(throws: FileOutputError.self) {
            _ = try BufferedFileOutput(path: "/nonexistent-factpipe-dir/out.ndjson")
        }
        #expect(error?.operation == .open)
        #expect(error?.code == ENOENT)
        #expect(
            error?.description == "cannot open /nonexistent-factpipe-dir/out.ndjson for writing: "
                + "No such file or directory")
    }

    @Test func fullDiskFailsToWriteWithTheReason() throws {
        guard FileManager.default.isWritableFile(atPath: "/dev/full") else { return }
        var generator = FactGenerator(seed: 1)
        let error = #expect(throws: FileOutputError.self) {
            try generator.write(count: 20_000, to: BufferedFileOutput(path: "/dev/full", capacity: 1_024))
        }
        #expect(error?.operation == .write)
        #expect(error?.code == ENOSPC)
    }
}

extension GenerationSummary {
    fileprivate func with(bytes: Int64) -> GenerationSummary {
        var copy = self
        copy.bytes = bytes
        return copy
    }
}
