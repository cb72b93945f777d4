extension PostgreSQLLedger {
    /// Every load recorded in the PostgreSQL database at `address`, oldest first (`factpipe loads`).
    /// Reads only: takes no lock, creates nothing.
    /// - Throws: `PostgreSQLError` when the server cannot be reached or the database has no factpipe schema.
    static func allLoads(address: PostgreSQLAddress, last: Int? = nil) throws(PostgreSQLError) -> [LoadRecord] {
        let connection = try PostgreSQLConnection(address: address, applicationName: "factpipe loads")
        try PostgreSQLSchema.checkReadable(connection)
        let result = try connection.execute("""
            SELECT id, source, source_size, source_sha256, format, compression, conflict_policy,
            \(isoText("started_at")), \(isoText("finished_at")), status, records, inserted, updated, duplicates,
            rejected, warnings, checkpoint_offset, checkpoint_line, message FROM factpipe_loads
            \(LoadRecord.newest(last).map { "WHERE " + $0 } ?? "") ORDER BY id
            """)
        var records: [LoadRecord] = []
        for row in 0..<result.rowCount {
            let text = result.text(row, 9) ?? ""
            guard let status = LoadStatus(rawValue: text) else {
                throw PostgreSQLError(
                    server: address.description,
                    message: "load \(result.int64(row, 0)) has the status \"\(text)\", which factpipe never writes")
            }
            var record = LoadRecord(
                id: result.int64(row, 0), source: result.text(row, 1) ?? "",
                size: result.isNull(row, 2) ? nil : result.int64(row, 2), sha256: result.text(row, 3),
                format: result.text(row, 4), compression: result.text(row, 5),
                conflictPolicy: result.text(row, 6) ?? "", startedAt: result.text(row, 7) ?? "",
                finishedAt: result.text(row, 8), status: status)
            record.records = Int(result.int64(row, 10))
            record.inserted = Int(result.int64(row, 11))
            record.updated = Int(result.int64(row, 12))
            record.duplicates = Int(result.int64(row, 13))
            record.rejected = Int(result.int64(row, 14))
            record.warnings = Int(result.int64(row, 15))
            record.checkpointOffset = result.int64(row, 16)
            record.checkpointLine = Int(result.int64(row, 17))
            record.message = result.text(row, 18)
            records.append(record)
        }
        return records
    }
}
