import Dispatch
import ArgumentParser
import FactPipe

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `factpipe generate`: writes deterministic synthetic facts shaped like the real knowledge base.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write deterministic synthetic facts shaped like a real knowledge base.",
        discussion: """
            About 1,000 predicates with a few very common ones, about 200,000 entities (some with \
            Unicode, digits or underscores), mostly two arguments, now and then a role:value \
            argument or a Q(298, K) quantity. The same --seed and --facts give the same bytes.

            A share of records can repeat a recent fact (--duplicate-rate) or be malformed \
            (--invalid-rate): unbalanced parentheses, free text, empty arguments, quantified \
            formulas, and, where the format allows, confidence out of range, truncated JSON or a \
            missing statement field. A summary goes to standard error unless --quiet.

            Examples:
              factpipe generate --facts 1000000 -o facts.ndjson
              factpipe generate --facts 100 --format csv --seed 7
              factpipe generate --facts 50000 --format text --invalid-rate 0.01 -o broken.txt
            """
    )

    @Option(name: .customLong("facts"), parsing: .unconditional,
            help: "Number of records to write (header not counted).")
    var count: Int

    @Option(parsing: .unconditional, help: "Seed of the pseudo-random sequence.")
    var seed: UInt64 = 42

    @Option(help: "Output format.")
    var format: FactGenerator.Format = .ndjson

    @Option(name: [.short, .customLong("output")], help: "Output file, or - for standard output.")
    var output: String = "-"

    @Option(parsing: .unconditional, help: "Fraction of records, 0 to 1, that are malformed.")
    var invalidRate: Double = 0

    @Option(parsing: .unconditional, help: "Fraction of records, 0 to 1, that repeat a recent fact.")
    var duplicateRate: Double = 0.02

    @Flag(name: .shortAndLong, help: "Do not print the summary on standard error.")
    var quiet = false

    /// Set by `scale-test` for its child: should that process die (`kill -9`), the child stops as on
    /// SIGTERM, its file removed, instead of writing gigabytes for no one.
    @Option(name: .customLong("parent-pid"), help: .hidden)
    var parentPID: Int32?

    func validate() throws {
        guard count >= 0 else {
            throw ValidationError("--facts must be 0 or more, not \(count).")
        }
        guard (0...1).contains(invalidRate) else {
            throw ValidationError("--invalid-rate must be between 0 and 1, not \(invalidRate).")
        }
        guard (0...1).contains(duplicateRate) else {
            throw ValidationError("--duplicate-rate must be between 0 and 1, not \(duplicateRate).")
        }
        guard !output.isEmpty else {
            throw ValidationError("--output must be a path, or - for standard output.")
        }
        try PathArguments.checkOutputs([("--output", output)], database: nil)
    }

    func run() throws {
        let started = monotonicSeconds()
        var generator = FactGenerator(
            options: .init(seed: seed, format: format, invalidRate: invalidRate, duplicateRate: duplicateRate)
        )
        // A signal removes the file being written and ends the command (130/143/129): the file that was at
        // the path stays as it was.
        let cleanup = InterruptCleanup()
        let orphanWatch = parentPID.map { parent in
            let timer = DispatchSource.makeTimerSource(queue: .global())
            timer.schedule(deadline: .now(), repeating: .milliseconds(100))
            timer.setEventHandler { if getppid() != parent { kill(getpid(), SIGTERM) } }
            timer.resume()
            return timer
        }
        defer { orphanWatch?.cancel() }
        let summary: GenerationSummary
        do {
            summary = try generator.write(count: count, toPath: output)
        } catch let error as FileOutputError {
            // As every command's error: escaped, and a PostgreSQL URL given as the output without its password.
            Standard.error("factpipe generate: error: " + TerminalText.escaped("\(error)"))
            throw ExitCode.failure
        }
        withExtendedLifetime(cleanup) {}
        if !quiet {
            let seconds = monotonicSeconds() - started
            let megabytes = Double(summary.bytes) / 1_000_000
            Standard.error("factpipe generate: \(summary); \(formatted(megabytes)) MB in \(formatted(seconds)) s")
        }
    }
}

extension FactGenerator.Format: ExpressibleByArgument {}

/// Seconds on a monotonic clock.
private func monotonicSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// `value` with two decimals.
private func formatted(_ value: Double) -> String {
    let hundredths = Int((value * 100).rounded())
    let fraction = hundredths % 100
    return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
}
