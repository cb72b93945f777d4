import Foundation

/// A first-in first-out queue with a fixed capacity, connecting two pipeline stages.
///
/// `push` blocks while the queue is full, so a slow consumer holds back its producer (back-pressure);
/// `pop` blocks while it is empty. `close()` lets the consumer drain what is left; `cancel()` wakes
/// everyone and makes both sides stop at once (the first fatal error cancels every queue).
final class BoundedQueue<Element: Sendable>: @unchecked Sendable {
    /// What the queue is for, as shown in diagnostics.
    let name: String
    /// Most elements held at once.
    let capacity: Int

    private let condition = NSCondition()
    private var items: [Element?]
    private var head = 0
    private var count = 0
    private var isClosed = false
    private var isCancelled = false

    init(name: String, capacity: Int) {
        precondition(capacity > 0, "a bounded queue needs a capacity of at least 1")
        self.name = name
        self.capacity = capacity
        self.items = Array(repeating: nil, count: capacity)
    }

    /// Appends `element`, waiting while the queue is full; false when the queue was cancelled or closed.
    @discardableResult
    func push(_ element: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while count == capacity && !isCancelled && !isClosed { condition.wait() }
        guard !isCancelled && !isClosed else { return false }
        items[(head + count) % capacity] = element
        count += 1
        condition.broadcast()
        return true
    }

    /// Removes the oldest element, waiting while the queue is empty; nil once closed and drained, or cancelled.
    func pop() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while count == 0 && !isClosed && !isCancelled { condition.wait() }
        guard !isCancelled, count > 0 else { return nil }
        let element = items[head]
        items[head] = nil
        head = (head + 1) % capacity
        count -= 1
        condition.broadcast()
        return element
    }

    /// No more elements will be pushed; consumers drain what is left.
    func close() {
        condition.lock()
        isClosed = true
        condition.broadcast()
        condition.unlock()
    }

    /// Stops both sides now; queued elements are dropped.
    func cancel() {
        condition.lock()
        isCancelled = true
        for i in items.indices { items[i] = nil }
        count = 0
        condition.broadcast()
        condition.unlock()
    }
}
