import Foundation
import Testing

/// `factpipe scale-test 2>&1 | head -1`: a reader that goes away must not leave the temporary files.
@Suite struct ScaleTestClosedPipeTests {
    @Test func aClosedOutputPipeLeavesNoTemporaryFiles() throws {
        let work = try CLIWorkspace()
        let folder = work.path("scratch")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = BinaryLocator.factpipe
        process.arguments = ["scale-test", "--facts", "2000", "--queries", "10", "--work-dir", folder]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // The reader reads one line and goes away, as `head -1` does.
        var first = Data()
        while !first.contains(UInt8(ascii: "\n")) {
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            first.append(chunk)
        }
        try pipe.fileHandleForReading.close()
        try pipe.fileHandleForWriting.close()
        process.waitUntilExit()
        #expect(String(decoding: first, as: UTF8.self).hasPrefix("factpipe scale-test: generating"))
        #expect(process.terminationReason == .exit, "killed by signal \(process.terminationStatus)")
        let left = try FileManager.default.contentsOfDirectory(atPath: folder)
        #expect(left.isEmpty, "left behind: \(left)")
    }
}
