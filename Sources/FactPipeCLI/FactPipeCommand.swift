import ArgumentParser
import FactPipe

@main
struct FactPipeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "factpipe",
        abstract: "Move facts in and out of SQLite in bulk: streaming, validated, fast.",
        version: FactPipeVersion.current,
        subcommands: [
            ImportCommand.self, ExportCommand.self, VerifyCommand.self, BackupCommand.self, RestoreCommand.self,
            RunCommand.self, LoadsCommand.self, UndoCommand.self,
            OptimizeCommand.self, StatsCommand.self, QueryCommand.self, ScaleTestCommand.self,
            GenerateCommand.self, MonitorCommand.self,
        ]
    )
}
