import Foundation

/// The SHA-256 of a file as the `sha256sum` tool prints it (lowercase hex): the tests' one digest,
/// computed outside the code under test.
public func sha256sum(_ path: String) throws -> String {
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("factpipe-sum-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: output.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: output) }
    let handle = try FileHandle(forWritingTo: output)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
    process.arguments = [path]
    process.standardOutput = handle
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    try handle.close()
    let text = try String(contentsOf: output, encoding: .utf8)
    guard process.terminationStatus == 0, text.utf8.count >= 64 else {
        throw ToolFailure(description: "sha256sum \(path) failed (exit \(process.terminationStatus))")
    }
    return String(text.prefix(64))
}

/// A tool the tests run that did not succeed.
public struct ToolFailure: Error, CustomStringConvertible {
    public var description: String

    public init(description: String) {
        self.description = description
    }
}
