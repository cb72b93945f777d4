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

    /// Writes `count` facts as CSV to `path`, with the options `ScaleTest.generatorOptions(seed:)` names;
    /// the child is stopped (SIGTERM) as soon as `isCancelled` says so.
    /// - Throws: `Failure` when the child cannot be started, is stopped, or does not exit with 0.
    static func generate(path: String, count: Int, seed: UInt64, isCancelled: () -> Bool) throws {
        let options = ScaleTest.generatorOptions(seed: seed)
        let executable = try currentExecutable()
        let arguments = [
            executable, "generate", "--facts", "\(count)", "--seed", "\(options.seed)",
            "--format", options.format.rawValue, "--invalid-rate", "\(options.invalidRate)",
            "--duplicate-rate", "\(options.duplicateRate)", "--output", path, "--quiet", "--parent-pid", "\(getpid())",
        ]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        // The parent ignores SIGINT, SIGTERM and SIGPIPE (it stops cleanly instead); the child must not.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        sigaddset(&signals, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &signals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF))
        var pid = pid_t()
        let rc = posix_spawn(&pid, executable, nil, &attributes, &argv, environ)
        guard rc == 0 else {
            throw Failure(description: "cannot start \(executable) generate: \(String(cString: strerror(rc)))")
        }
        var status: Int32 = 0
        var stopped = false
        while true {
            let waited = waitpid(pid, &status, WNOHANG)
            if waited == pid { break }
            guard waited == 0 || errno == EINTR else { throw Failure(description: "lost the generator process") }
            if !stopped && isCancelled() {
                kill(pid, SIGTERM)
                stopped = true
            }
            usleep(20_000)
        }
        if stopped { throw Failure(description: "the generator was stopped") }
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
