import Foundation
import Testing

@testable import FactPipe

/// A stale-temporary sweep judges only the names made on this host and in this PID namespace: a
/// process number from elsewhere (a container, another host sharing the folder) means nothing here.
@Suite struct StaleTemporariesTests {
    @Test func aNameRecordsTheHostAndThePIDNamespace() throws {
        let name = TemporaryName.make(for: "/data/kb.sqlite")
        #expect(name.hasPrefix("/data/.kb.sqlite.factpipe-tmp-"))
        let owner = try #require(TemporaryName.owner(ofEntry: PathText.split(name).name))
        #expect(owner == TemporaryName.currentOwner)
        #expect(owner.place == .current)
        #expect(TemporaryName.Place.current.namespace != 0)
        #expect(TemporaryName.owner(ofEntry: PathText.split(name).name + "-wal") == owner)
    }

    @Test func onlyTheTemporariesOfThisHostAndNamespaceWhoseOwnerIsGoneAreRemoved() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("factpipe-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let here = TemporaryName.Place.current
        // This process's number with another start time: a process that has ended, as judged here.
        let me = TemporaryName.currentOwner
        func name(_ place: TemporaryName.Place?, _ number: Int) -> String {
            ".kb.sqlite" + TemporaryName.marker
                + TemporaryName.Owner(pid: me.pid, start: me.start + 1, place: place).nameSuffix(number: number)
        }
        let kept = [
            name(TemporaryName.Place(host: here.host, namespace: here.namespace + 1), 1),  // another namespace
            name(TemporaryName.Place(host: here.host ^ 1, namespace: here.namespace), 2),  // another host
            PathText.split(TemporaryName.make(for: folder + "/kb.sqlite")).name,  // this process
        ]
        let removed = [name(here, 3), name(here, 3) + "-journal", name(nil, 4)]  // the last: an older name
        for entry in kept + removed {
            #expect(FileManager.default.createFile(atPath: folder + "/" + entry, contents: Data("x".utf8)))
        }
        let swept = StaleTemporaries.sweep(folder: folder)
        #expect(Set(swept) == Set(removed.map { folder + "/" + $0 }))
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: folder)) == Set(kept))
    }
}
