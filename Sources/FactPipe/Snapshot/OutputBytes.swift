/// A growable run of bytes that records are encoded into: raw memory, appended to without the
/// reference counting and bounds bookkeeping of `[UInt8]`, emptied (not freed) after each flush.
///
/// It grows only past its capacity, i.e. by one record beyond a chunk at most, so its size stays
/// bounded by the chunk size plus the largest record.
final class OutputBytes {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var count = 0
    private var capacity: Int

    /// A buffer of `capacity` bytes.
    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        base = UnsafeMutableRawPointer.allocate(byteCount: self.capacity, alignment: 16)
    }

    deinit {
        base.deallocate()
    }

    /// The bytes appended since the last `removeAll()`.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Forgets the bytes, keeping the memory.
    func removeAll() {
        count = 0
    }

    /// Makes room for `extra` more bytes.
    @inline(__always)
    func reserve(_ extra: Int) {
        if count + extra > capacity { grow(count + extra) }
    }

    private func grow(_ needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        newBase.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    /// Appends `length` bytes from `source`.
    @inline(__always)
    func append(_ source: UnsafeRawPointer, _ length: Int) {
        reserve(length)
        (base + count).copyMemory(from: source, byteCount: length)
        count += length
    }

    /// Appends the bytes of `buffer`.
    @inline(__always)
    func append(_ buffer: UnsafeBufferPointer<UInt8>) {
        guard let source = buffer.baseAddress else { return }
        append(source, buffer.count)
    }

    /// Appends the bytes of `buffer`.
    @inline(__always)
    func append(_ buffer: UnsafeRawBufferPointer) {
        guard let source = buffer.baseAddress else { return }
        append(source, buffer.count)
    }

    /// Appends the UTF-8 of a literal.
    @inline(__always)
    func append(_ literal: StaticString) {
        append(literal.utf8Start, literal.utf8CodeUnitCount)
    }

    /// Appends one byte.
    @inline(__always)
    func append(_ byte: UInt8) {
        reserve(1)
        base.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count += 1
    }
}
