import Foundation
import Testing

/// `FILE.sha256` beside a snapshot reads back with `sha256sum -c`, whatever the file's name.
@Suite struct ChecksumFileTests {
    @Test(arguments: ["new\nline.ndjson.zst", "back\\slash.ndjson.zst", "carriage\rreturn.csv", "plain name.csv"])
    func sha256sumChecksTheSidecarOfAnyName(_ name: String) throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", "P(a).\nP(b).\n")
        #expect(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 0)
        let output = work.path(name)
        let export = try Factpipe.run(["export", "--db", work.database, "-o", output, "-q"])
        #expect(export.status == 0, "\(export.stderr)")
        let sidecar = try Data(contentsOf: URL(fileURLWithPath: output + ".sha256"))
        #expect(sidecar.filter { $0 == UInt8(ascii: "\n") }.count == 1, "one line: \(sidecar)")
        // sha256sum reads the sidecar from the file's folder, as a user would.
        let check = try Factpipe.runProcess(
            URL(fileURLWithPath: "/bin/sh"),
            ["-c", "cd \"$1\" && sha256sum -c --strict \"$2\"", "sh", work.url.path, name + ".sha256"])
        #expect(check.status == 0, "\(check.stdoutText) \(check.stderr)")
        #expect(check.stdoutText.hasSuffix(": OK\n"), "\(check.stdoutText)")
        // factpipe's own check reads it too.
        let verify = try Factpipe.run(["verify", output, "-q"])
        #expect(verify.status == 0, "\(verify.stderr)")
    }
}
