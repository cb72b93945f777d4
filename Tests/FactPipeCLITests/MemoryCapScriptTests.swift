import Foundation
import Testing

/// `scripts/memory-cap` at a small size: a load and an export with their address space capped by `ulimit -v`
/// finish whole.
///
/// Not under `scripts/sanitize`: ASan and TSan reserve terabytes of address space for their shadow memory,
/// which no `ulimit -v` cap leaves room for.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["FACTPIPE_SANITIZER"] == nil))
struct MemoryCapScriptTests {
    @Test func aLoadUnderTheAddressSpaceCapFinishesWhole() throws {
        let script = packageRootURL().appendingPathComponent("scripts/memory-cap")
        let run = try Factpipe.runProcess(script, ["--facts", "20000", "--bin", BinaryLocator.factpipe.path])
        #expect(run.status == 0, "\(run.stdoutText)\n\(run.stderr)")
        #expect(run.stdoutText.contains("memory-cap: 20000 facts"), "\(run.stdoutText)")
        #expect(run.stdoutText.contains("address space capped at 640 MiB: exit 0"), "\(run.stdoutText)")
        #expect(run.stdoutText.contains("memory-cap: loaded whole under the cap"), "\(run.stdoutText)")
        #expect(run.stdoutText.contains("memory-cap: exported whole under the cap, verified"), "\(run.stdoutText)")
    }

    @Test func theScriptFailsWhenTheCapIsTooTightForTheLoad() throws {
        // The check must be able to fail: in 64 MiB the binary cannot even map its libraries.
        let script = packageRootURL().appendingPathComponent("scripts/memory-cap")
        let run = try Factpipe.runProcess(script, [
            "--facts", "20000", "--cap-mb", "64", "--bin", BinaryLocator.factpipe.path,
        ])
        #expect(run.status != 0, "\(run.stdoutText)")
        #expect(run.stdoutText.contains("memory-cap: LOAD FAILED"), "\(run.stdoutText)")
    }
}
