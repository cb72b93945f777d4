#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FactPipe

/// The target this process fuzzes, from `FACTPIPE_FUZZ_TARGET` (`statement`, `ndjson`, `csv`, `snapshot`).
let selectedTarget: FuzzEntryPoints.Target? = {
    guard let name = getenv("FACTPIPE_FUZZ_TARGET") else { return nil }
    return FuzzEntryPoints.Target(rawValue: String(cString: name))
}()

/// libFuzzer's callback: one input through the selected entry point; a broken invariant traps, so the
/// fuzzer records the input as a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let target = selectedTarget else {
        preconditionFailure("set FACTPIPE_FUZZ_TARGET to one of statement, ndjson, csv, snapshot")
    }
    let bytes = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    if let problem = FuzzEntryPoints.run(target, bytes) {
        preconditionFailure("invariant broken: \(problem)")
    }
    return 0
}
