import FactPipe

extension ArchiveResult {
    /// The report of an export or a backup for `--report` and `--metrics-file`: how many facts, how
    /// fast, how much memory, and the database's size.
    func runReport(command: String, databasePath: String) -> RunReport {
        var report = RunReport(command: command, status: "done")
        report.seconds = seconds
        report.records = Int(manifest.factCount)
        report.factsPerSecond = seconds > 0 ? Double(manifest.factCount) / seconds : 0
        report.peakRSSBytes = ResourceUsage.peakRSSBytes()
        report.databasePath = databasePath
        report.databaseBytes = FileSize.bytes(databasePath)
        report.walBytes = FileSize.bytes(DatabaseFile.walPath(databasePath))
        report.message = "\(path): \(fileBytes) bytes"
        return report
    }
}
