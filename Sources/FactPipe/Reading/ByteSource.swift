/// A stream of bytes read block by block: a file, a pipe, or a decoder wrapped around either.
///
/// Sources are used from one thread at a time and are not `Sendable`.
public protocol ByteSource: AnyObject {
    /// The input's name for error messages: the path, or `-` for standard input.
    var name: String { get }

    /// Fills the start of `buffer` with the next bytes and returns how many it wrote; 0 means the end of the stream.
    ///
    /// Throws a `ReadError` when the underlying read fails or the data cannot be decoded.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(ReadError) -> Int
}
