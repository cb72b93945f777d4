import Foundation
import Testing
@testable import FactPipe

/// The reader refuses an input that is no longer the file whose SHA-256 the plan took: at its opening,
/// and at its end, when it was written to while it was read.
struct SourceReaderStampTests {
    @Test func anInputWrittenWhileItIsReadFailsAtItsEnd() throws {
        let directory = try TemporaryDirectory()
        let lines = (0..<60_000).map { "HasPart(thing\($0), part\($0))." }.joined(separator: "\n") + "\n"
        let path = try directory.write("big.txt", lines)
        var planner = InputPlanner(options: ImportOptions(inputs: [path], databasePath: directory.path("kb")), ledger: nil)
        let plans = try planner.plan([path])
        #expect(plans.first?.stamp != nil)
        // A queue of one: the reader waits for each item to be taken, so the file can change mid-read.
        let queue = BoundedQueue<Sequenced<PipelineItem>>(name: "test", capacity: 1)
        let reader = SourceReader(options: ImportOptions(inputs: [path], databasePath: ""), plans: plans,
                                  progress: ImportProgress())
        // The pipeline closes the queue once the reader returns (it returns without closing it on a failure).
        let thread = Thread {
            reader.run(into: queue)
            queue.close()
        }
        thread.start()
        var items: [PipelineItem] = []
        while let item = queue.pop() {
            items.append(item.value)
            if items.count == 2 {
                // Rewritten in place, the same size.
                let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
                try handle.seek(toOffset: 0)
                try handle.write(contentsOf: Data("Z".utf8))
                try handle.close()
            }
        }
        #expect(items.count > 3, "the input was read in several chunks")
        guard case .readFailed(let error) = items.last else {
            Issue.record("the read ended with \(String(describing: items.last))")
            return
        }
        #expect(error.message.contains("it changed while it was read"), "\(error.message)")
        #expect(!items.contains { if case .sourceEnd = $0 { return true } else { return false } })
    }
}
