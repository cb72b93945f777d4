import Foundation
import Testing

@testable import FactPipe

/// Every regression input (`Fixtures/fuzz/regressions/TARGET-*`: inputs a fuzzer crashed on, and hand-made
/// hostile ones — deep nesting, invalid UTF-8, truncated compressed streams) and every seed goes through the
/// same entry point the fuzz target calls, and must neither crash nor break an invariant.
@Suite struct FuzzRegressionTests {
    /// The files of a fixture folder, sorted, with their bytes.
    private func files(_ folder: String) throws -> [(name: String, bytes: [UInt8])] {
        let url = fixtureURL(folder)
        let names = try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
        return try names.map { name in
            (name, [UInt8](try Data(contentsOf: url.appendingPathComponent(name))))
        }
    }

    @Test func everyRegressionInputPasses() throws {
        let inputs = try files("fuzz/regressions").filter { !$0.name.hasPrefix(".") }
        #expect(inputs.count >= 10)
        for input in inputs {
            let prefix = input.name.split(separator: "-").first.map(String.init) ?? ""
            let target = try #require(FuzzEntryPoints.Target(rawValue: prefix), "\(input.name): name a target first")
            let problem = input.bytes.withUnsafeBytes { FuzzEntryPoints.run(target, $0) }
            #expect(problem == nil, "\(input.name): \(problem ?? "")")
        }
    }

    @Test(arguments: FuzzEntryPoints.Target.allCases)
    func everySeedPasses(_ target: FuzzEntryPoints.Target) throws {
        let seeds = try files("fuzz/\(target.rawValue)")
        #expect(seeds.count >= 3)
        for seed in seeds {
            let problem = seed.bytes.withUnsafeBytes { FuzzEntryPoints.run(target, $0) }
            #expect(problem == nil, "\(seed.name): \(problem ?? "")")
        }
    }
}
