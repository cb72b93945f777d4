import Foundation

/// Bounds how far the parser workers may run ahead of the batcher, so one slow chunk cannot make the
/// batcher hold an unbounded number of later chunks while it waits to put them back in order.
///
/// A worker `acquire`s a place before it takes the next item from the reader's queue, and the batcher
/// `release`s one for every item it has handed on in order. The items between the two — in a worker,
/// in the parsed queue, or waiting in the batcher for an earlier one — are never more than `capacity`.
/// This cannot stall: workers take items in input order, so the earliest item not yet handed on has
/// always been taken by a worker, which holds its place and finishes it.
final class ReorderWindow: @unchecked Sendable {
    /// Most items taken from the reader and not yet handed on by the batcher.
    let capacity: Int

    private let condition = NSCondition()
    private var inFlight = 0
    private var isCancelled = false

    init(capacity: Int) {
        precondition(capacity > 0, "a reorder window needs room for at least one item")
        self.capacity = capacity
    }

    /// Takes a place, waiting while the window is full; false once it was cancelled.
    func acquire() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while inFlight == capacity && !isCancelled { condition.wait() }
        guard !isCancelled else { return false }
        inFlight += 1
        return true
    }

    /// Gives back `count` places.
    func release(_ count: Int = 1) {
        guard count > 0 else { return }
        condition.lock()
        inFlight = max(0, inFlight - count)
        condition.broadcast()
        condition.unlock()
    }

    /// Wakes every waiter; `acquire` returns false from now on.
    func cancel() {
        condition.lock()
        isCancelled = true
        condition.broadcast()
        condition.unlock()
    }

    /// Places taken now, for tests.
    var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return inFlight
    }
}
