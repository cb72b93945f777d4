import Foundation
import Testing

@testable import FactPipe

/// `DirectoryEntry.name` reads an entry's name no further than its end: readdir's last entry may end
/// where its buffer, and the memory mapped, ends.
@Suite struct DirectoryEntryTests {
    @Test func aNameIsReadWithoutReadingPastTheEntry() throws {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let mapped = try #require(mmap(nil, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        try #require(mapped != MAP_FAILED)
        defer { munmap(mapped, 2 * page) }
        // The second page is not readable: reading a byte past the entry's name crashes the test.
        #expect(mprotect(mapped + page, page, PROT_NONE) == 0)
        let offset = try #require(MemoryLayout<dirent>.offset(of: \dirent.d_name))
        let name = Array("kb-20250101T000000.000Z.db.zst".utf8) + [0]
        // An entry as the kernel lays it out, its name's zero the last byte before the unreadable page.
        let entry = mapped + page - offset - name.count
        UnsafeMutableRawBufferPointer(start: entry + offset, count: name.count).copyBytes(from: name)
        #expect(DirectoryEntry.name(entry.assumingMemoryBound(to: dirent.self)) == "kb-20250101T000000.000Z.db.zst")
    }

    @Test func theNamesOfAFolderAreItsFiles() throws {
        let work = try LoadWorkspace()
        let names = (1...300).map { "f\(String(repeating: "x", count: $0 % 200))-\($0)" }
        for name in names { try work.write(name, "") }
        let folder = try #require(opendir(work.path(".")))
        defer { closedir(folder) }
        var read: [String] = []
        while let entry = readdir(folder) { read.append(DirectoryEntry.name(entry)) }
        #expect(read.filter { $0 != "." && $0 != ".." }.sorted() == names.sorted())
    }
}
