import ArgumentParser

/// `--json` and `--quiet`, shared by the commands that print a summary and run long.
struct ConsoleOptions: ParsableArguments {
    @Flag(help: "Print one JSON object on standard output.")
    var json = false

    @Flag(name: .shortAndLong, help: "Nothing on standard error but errors.")
    var quiet = false
}
