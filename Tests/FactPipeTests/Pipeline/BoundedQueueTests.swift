import Dispatch
import Foundation
import Testing

@testable import FactPipe

/// Runs `body` on a thread of its own and signals `done` when it returns.
private func onThread(_ done: DispatchSemaphore, _ body: @escaping @Sendable () -> Void) {
    Thread.detachNewThread {
        body()
        done.signal()
    }
}

@Suite struct BoundedQueueTests {
    @Test func popsInFirstInFirstOutOrderAcrossTheRingBuffer() {
        let queue = BoundedQueue<Int>(name: "ring", capacity: 3)
        var popped: [Int] = []
        for round in 0..<4 {
            #expect(queue.push(round * 10))
            #expect(queue.push(round * 10 + 1))
            popped.append(queue.pop()!)
            popped.append(queue.pop()!)
        }
        #expect(popped == [0, 1, 10, 11, 20, 21, 30, 31])
    }

    @Test func aProducerBlocksWhileTheQueueIsFullUntilAConsumerPops() {
        let queue = BoundedQueue<Int>(name: "full", capacity: 2)
        #expect(queue.push(1))
        #expect(queue.push(2))
        let pushed = DispatchSemaphore(value: 0)
        let result = LockedValue<Bool?>(nil)
        onThread(pushed) { result.set(queue.push(3)) }
        #expect(pushed.wait(timeout: .now() + 0.2) == .timedOut, "push into a full queue returned at once")
        #expect(result.get() == nil)
        #expect(queue.pop() == 1)
        #expect(pushed.wait(timeout: .now() + 5) == .success)
        #expect(result.get() == true)
        #expect(queue.pop() == 2)
        #expect(queue.pop() == 3)
    }

    @Test func aConsumerBlocksWhileTheQueueIsEmptyUntilAProducerPushes() {
        let queue = BoundedQueue<String>(name: "empty", capacity: 1)
        let popped = DispatchSemaphore(value: 0)
        let result = LockedValue<String?>(nil)
        onThread(popped) { result.set(queue.pop()) }
        #expect(popped.wait(timeout: .now() + 0.2) == .timedOut, "pop from an empty queue returned at once")
        #expect(queue.push("chunk"))
        #expect(popped.wait(timeout: .now() + 5) == .success)
        #expect(result.get() == "chunk")
    }

    @Test func closeLetsTheConsumerDrainWhatIsLeftThenEnds() {
        let queue = BoundedQueue<Int>(name: "drain", capacity: 4)
        for value in 1...3 { #expect(queue.push(value)) }
        queue.close()
        #expect(queue.push(4) == false)
        #expect(queue.pop() == 1)
        #expect(queue.pop() == 2)
        #expect(queue.pop() == 3)
        #expect(queue.pop() == nil)
        #expect(queue.pop() == nil)
    }

    @Test func closeWakesAConsumerWaitingOnAnEmptyQueue() {
        let queue = BoundedQueue<Int>(name: "wake", capacity: 1)
        let popped = DispatchSemaphore(value: 0)
        let result = LockedValue<Int??>(nil)
        onThread(popped) { result.set(.some(queue.pop())) }
        #expect(popped.wait(timeout: .now() + 0.1) == .timedOut)
        queue.close()
        #expect(popped.wait(timeout: .now() + 5) == .success)
        #expect(result.get() == .some(nil))
    }

    @Test func closeWakesAProducerWaitingOnAFullQueueAndRefusesItsElement() {
        let queue = BoundedQueue<Int>(name: "wake", capacity: 1)
        #expect(queue.push(1))
        let pushed = DispatchSemaphore(value: 0)
        let result = LockedValue<Bool?>(nil)
        onThread(pushed) { result.set(queue.push(2)) }
        #expect(pushed.wait(timeout: .now() + 0.1) == .timedOut)
        queue.close()
        #expect(pushed.wait(timeout: .now() + 5) == .success)
        #expect(result.get() == false)
        #expect(queue.pop() == 1)
        #expect(queue.pop() == nil)
    }

    @Test func cancelWakesBothSidesAndDropsWhatIsQueued() {
        let full = BoundedQueue<Int>(name: "full", capacity: 1)
        let empty = BoundedQueue<Int>(name: "empty", capacity: 1)
        #expect(full.push(1))
        let done = DispatchSemaphore(value: 0)
        let pushResult = LockedValue<Bool?>(nil)
        let popResult = LockedValue<Int??>(nil)
        onThread(done) { pushResult.set(full.push(2)) }
        onThread(done) { popResult.set(.some(empty.pop())) }
        #expect(done.wait(timeout: .now() + 0.15) == .timedOut)
        full.cancel()
        empty.cancel()
        #expect(done.wait(timeout: .now() + 5) == .success)
        #expect(done.wait(timeout: .now() + 5) == .success)
        #expect(pushResult.get() == false)
        #expect(popResult.get() == .some(nil))
        // The element queued before the cancel is gone, and nothing more goes in.
        #expect(full.pop() == nil)
        #expect(full.push(3) == false)
    }

    @Test func manyProducersAndOneConsumerLoseNothingAndKeepEachProducersOrder() {
        let queue = BoundedQueue<(producer: Int, value: Int)>(name: "stress", capacity: 3)
        let producers = 4, perProducer = 2_000
        let done = DispatchSemaphore(value: 0)
        for producer in 0..<producers {
            onThread(done) {
                for value in 0..<perProducer { _ = queue.push((producer, value)) }
            }
        }
        var received = Array(repeating: [Int](), count: producers)
        for _ in 0..<(producers * perProducer) {
            guard let item = queue.pop() else { break }
            received[item.producer].append(item.value)
        }
        for _ in 0..<producers { done.wait() }
        queue.close()
        #expect(queue.pop() == nil)
        for producer in 0..<producers {
            #expect(received[producer] == Array(0..<perProducer))
        }
    }
}
