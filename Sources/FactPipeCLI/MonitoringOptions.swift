import ArgumentParser
import FactPipe

#if canImport(Glibc)
import Glibc
#endif

/// `--report FILE.json` and `--metrics-file FILE.prom`, shared by the long commands.
///
/// Both files are written once the command has its summary, each atomically (a temporary file in
/// the same directory, then a rename), so a Prometheus textfile collector never reads half a file.
struct MonitoringOptions: ParsableArguments {
    @Option(name: .customLong("report"), help: "Write a JSON report of the run to this file.")
    var reportPath: String?

    @Option(
        name: .customLong("metrics-file"),
        help: "Write Prometheus text metrics to this file (node exporter textfile format).")
    var metricsPath: String?

    func validate() throws {
        for (flag, path) in [("--report", reportPath), ("--metrics-file", metricsPath)] {
            guard let path else { continue }
            guard !path.isEmpty, !path.hasSuffix("/") else { throw ValidationError("\(flag) needs a file path") }
            // `-` is standard output everywhere else (and to the check of outputs against inputs), but this
            // file is written under a temporary name and renamed: it would be a file named `-`, and could
            // replace an input of that name unnoticed.
            guard path != "-" else {
                throw ValidationError("\(flag) needs a file path; it is never written to standard output "
                    + "(for a file named -, write ./-)")
            }
            // A folder there was found only once the command's work was done (exit 1 after a backup
            // was made and old ones pruned): a usage error, before anything runs.
            var info = stat()
            if stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
                throw ValidationError("\(flag) \(path) is a directory; it needs a file path")
            }
            var directory = "."
            if let slash = path.lastIndex(of: "/") {
                directory = slash == path.startIndex ? "/" : String(path[..<slash])
            }
            guard FileSize.bytes(directory) != nil else {
                throw ValidationError("\(flag): the directory \(directory) does not exist")
            }
        }
    }

    /// The files asked for, by option, for `PathArguments.checkOutputs`.
    var outputs: [(String, String?)] { [("--report", reportPath), ("--metrics-file", metricsPath)] }

    /// Writes the files asked for; on failure says why on standard error and exits 1.
    func write(_ report: @autoclosure () -> RunReport, command: String) throws {
        do {
            try writeFiles(report())
        } catch {
            throw CommandFailure.exit(command, error)
        }
    }

    /// Writes the files asked for once the command's work stands (`done` says what: "the snapshot X was
    /// written and stays"); one that cannot be written fails the command (1) in one error saying both.
    func write(after done: String, _ report: @autoclosure () -> RunReport, command: String, json: Bool) throws {
        do {
            try writeFiles(report())
        } catch {
            let path = (error as? CommandFailure.Problem)?.path
            throw CommandFailure.exit(
                command, CommandFailure.Problem("\(done), but its report could not be: \(error)", path: path), json: json)
        }
    }

    /// Writes the files asked for, each whatever became of the other: a report that could not be written left
    /// the metrics file with the last run's figures, which a collector then took for this run's.
    /// - Throws: why one could not be written, or both (one error naming each).
    func writeFiles(_ report: @autoclosure () -> RunReport) throws {
        guard reportPath != nil || metricsPath != nil else { return }
        let report = report()
        var failures: [(path: String, reason: String)] = []
        if let reportPath {
            do { try report.writeReport(to: reportPath) } catch { failures.append((reportPath, "\(error)")) }
        }
        if let metricsPath {
            do { try report.writeMetrics(to: metricsPath) } catch { failures.append((metricsPath, "\(error)")) }
        }
        guard failures.isEmpty else {
            throw CommandFailure.Problem(failures.map(\.reason).joined(separator: "; "), path: failures.first?.path)
        }
    }
}
