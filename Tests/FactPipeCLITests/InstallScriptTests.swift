import Foundation
import Testing

/// `scripts/install`: a release binary with the Swift runtime linked in, which runs with no toolchain
/// on the PATH, and shell completions beside it.
@Suite struct InstallScriptTests {
    @Test func theInstalledBinaryRunsWithoutTheToolchainAndHasCompletions() throws {
        let work = try CLIWorkspace()
        let prefix = work.path("prefix")
        let script = packageRootURL().appendingPathComponent("scripts/install")
        let install = try Factpipe.runProcess(script, ["--prefix", prefix])
        try #require(install.status == 0, "\(install.stdoutText)\n\(install.stderr)")
        let binary = prefix + "/bin/factpipe"

        // No Swift library is loaded from the toolchain: the runtime and Foundation are inside.
        let libraries = try Factpipe.tool("/usr/bin/ldd", [binary]).stdoutText
        #expect(!libraries.contains("libswiftCore") && !libraries.contains("libFoundation"), "\(libraries)")
        #expect(!libraries.contains("/opt/swift"), "\(libraries)")

        // A load with the toolchain off the PATH and out of the environment.
        let input = try work.write("facts.txt", "IsA(Dog, Animal).\nHasPart(Dog, Tail).\n")
        let clean = ["-i", "PATH=/usr/bin:/bin", "HOME=\(work.url.path)"]
        let load = try Factpipe.runProcess(
            URL(fileURLWithPath: "/usr/bin/env"), clean + [binary, "import", input, "--db", work.database, "--json"])
        #expect(load.status == 0, "\(load.stderr)")
        #expect(int(try load.json(), "inserted") == 2)

        for (file, word) in [
            ("share/bash-completion/completions/factpipe", "import"),
            ("share/zsh/site-functions/_factpipe", "import"),
            ("share/fish/vendor_completions.d/factpipe.fish", "import"),
        ] {
            let text = try String(contentsOfFile: prefix + "/" + file, encoding: .utf8)
            #expect(text.contains(word) && text.contains("db"), "\(file)")
        }
    }

    @Test func theScriptRefusesAnUnknownOption() throws {
        let script = packageRootURL().appendingPathComponent("scripts/install")
        let run = try Factpipe.runProcess(script, ["--prefx", "/tmp/nowhere"])
        #expect(run.status == 64)
        #expect(run.stderr.contains("usage:"))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/nowhere"))
    }
}
