import Foundation
import Testing

/// `scripts/soak` at a small size: a pipeline run night after night with new, repeated, broken and
/// killed-then-resumed inputs, readers at work, backups and exports restored — every promise checked
/// after every round.
@Suite struct SoakScriptTests {
    @Test func aFewNightsOfLoadsKeepEveryPromise() throws {
        let script = packageRootURL().appendingPathComponent("scripts/soak")
        let run = try Factpipe.runProcess(
            URL(fileURLWithPath: "/usr/bin/env"),
            ["python3", script.path, "--rounds", "4", "--facts", "3000", "--bin", BinaryLocator.factpipe.path])
        #expect(run.status == 0, "\(run.stdoutText)\n\(run.stderr)")
        #expect(run.stdoutText.contains("killed and resumed"), "\(run.stdoutText)")
        #expect(run.stdoutText.contains("soak: 4 rounds, 12000 facts, 60 refused"), "\(run.stdoutText)")
        #expect(run.stdoutText.hasSuffix(": ok\n"), "\(run.stdoutText)")
    }
}
