import FactPipe

#if canImport(Glibc)
    import Glibc
#endif

/// Runs `factpipe generate` in a child process: the scale test's input is written outside the
/// process whose load is measured, so the generator's vocabulary does not count as the load's memory.
enum GeneratorProcess {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Writes `count` facts as CSV to `path`, with the options `ScaleTest.generatorOptions(seed:)` names.
    /// - Throws: `Failure` when the child cannot be started or does not exit with 0.
    static func generate(path: String, count: Int, seed: UInt64) throws {
        let options = ScaleTest.generatorOptions(seed: seed)
        let executable = try currentExecutable()
        let arguments = [
            executable, "generate", "--facts", "\(count)", "--seed", "\(options.seed)",
            "--format", options.format.rawValue, "--invalid-rate", "\(options.invalidRate)",
            "--duplicate-rate", "\(options.duplicateRate)", "--output", path, "--quiet",
        ]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid = pid_t()
        let rc = posix_spawn(&pid, executable, nil, nil, &argv, environ)
        guard rc == 0 else {
            throw Failure(description: "cannot start \(executable) generate: \(String(cString: strerror(rc)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw Failure(description: "lost the generator process") }
        }
        // WIFEXITED and WEXITSTATUS, spelled out: Swift does not import the macros.
        let exited = status & 0x7F == 0
        guard exited, (status >> 8) & 0xFF == 0 else {
            throw Failure(description: "\(executable) generate failed (wait status \(status))")
        }
    }

    /// The path of the running binary.
    private static func currentExecutable() throws -> String {
        var buffer = [CChar](repeating: 0, count: 4_096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { throw Failure(description: "cannot find the factpipe binary (/proc/self/exe)") }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
