import Foundation
import Synchronization
import Testing

@testable import FactPipe

@Suite struct ReorderWindowTests {
    @Test func aWorkerWaitsWhileTheWindowIsFullAndGoesOnOnceTheBatcherHandsAnItemOn() throws {
        let window = ReorderWindow(capacity: 3)
        for _ in 0..<3 { #expect(window.acquire()) }
        let tookFourth = Atomic<Bool>(false)
        let started = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            started.signal()
            tookFourth.store(window.acquire(), ordering: .relaxed)
            done.signal()
        }
        started.wait()
        // Full: the fourth place is not given while nothing was handed on.
        #expect(done.wait(timeout: .now() + .milliseconds(100)) == .timedOut)
        let tookEarly = tookFourth.load(ordering: .relaxed)
        #expect(!tookEarly)
        #expect(window.count == 3)
        window.release()
        #expect(done.wait(timeout: .now() + .seconds(10)) == .success)
        let tookLate = tookFourth.load(ordering: .relaxed)
        #expect(tookLate)
        #expect(window.count == 3)
    }

    @Test func cancellingWakesAWaitingWorkerWithoutAPlace() throws {
        let window = ReorderWindow(capacity: 1)
        #expect(window.acquire())
        let result = Atomic<Int>(-1)
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            result.store(window.acquire() ? 1 : 0, ordering: .relaxed)
            done.signal()
        }
        window.cancel()
        #expect(done.wait(timeout: .now() + .seconds(10)) == .success)
        let outcome = result.load(ordering: .relaxed)
        #expect(outcome == 0)
        #expect(!window.acquire())
    }

    @Test func theBatcherCountsWhatItHandedOnInOrder() throws {
        // Items 1 and 2 arrive before 0: nothing is handed on until 0 comes, then all three.
        let batcher = Batcher(batchSize: 10, maxErrors: nil) { _ in true }
        let descriptor = SourceDescriptor(
            path: "x", format: .text, compression: .none, size: nil, sha256: nil, resumeLoadID: nil)
        batcher.accept(Sequenced(sequence: 2, value: .sourceEnd(sha256: nil)))
        batcher.accept(Sequenced(sequence: 1, value: .parsed(ParsedChunk(items: [], endOffset: 0, endLine: 1))))
        #expect(batcher.handedOn == 0)
        batcher.accept(Sequenced(sequence: 0, value: .sourceStart(descriptor)))
        #expect(batcher.handedOn == 3)
    }
}
