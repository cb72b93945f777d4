#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FactPipe

// Built by scripts/fuzz with `-sanitize=fuzzer,address -DFUZZING`: SwiftPM renames an executable's entry
// point, so libFuzzer's own `main` never runs; this one hands libFuzzer the command line and the callback.
// Without FUZZING (ordinary `swift build`) it replays the files named on the command line instead.
#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(runFuzzerDriver(&argc, &argv, fuzzOneInput))
#else
var failures = 0
for path in CommandLine.arguments.dropFirst() {
    guard let file = fopen(path, "rb") else {
        print("\(path): cannot open")
        failures += 1
        continue
    }
    var bytes: [UInt8] = []
    var block = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&block, 1, block.count, file)
        if n <= 0 { break }
        bytes.append(contentsOf: block[0..<n])
    }
    fclose(file)
    _ = bytes.withUnsafeBufferPointer { fuzzOneInput($0.baseAddress, $0.count) }
    print("\(path): ok")
}
exit(failures == 0 ? 0 : 1)
#endif
