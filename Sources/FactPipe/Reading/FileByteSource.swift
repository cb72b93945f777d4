#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `read(2)`, named apart from `FileByteSource.read(into:)`.
private func systemRead(_ descriptor: Int32, _ base: UnsafeMutableRawPointer, _ count: Int) -> Int {
    #if canImport(Darwin)
    return Darwin.read(descriptor, base, count)
    #elseif canImport(Musl)
    return Musl.read(descriptor, base, count)
    #else
    return Glibc.read(descriptor, base, count)
    #endif
}

/// Reads a file, a pipe or standard input with `read(2)`, counting the raw bytes it consumes.
///
/// The path `-` means file descriptor 0. The source closes the descriptors it opened when it is released.
public final class FileByteSource: ByteSource {
    /// The input's name: the path as given, or `-` for standard input.
    public let name: String
    /// The bytes from the descriptor's position to the end when it is a regular file, otherwise nil (pipes,
    /// terminals): the file's size, or less for standard input a shell handed over partly read.
    public let fileSize: Int64?
    /// Raw bytes consumed from the descriptor so far (compressed bytes for compressed inputs).
    public private(set) var bytesRead: Int64 = 0
    /// SHA-256 of every byte read so far.
    private var digest: SHA256Digest? = SHA256Digest()

    /// The SHA-256 of the whole input as 64 hex digits, once it was read to its end; ends the digest.
    /// Nil after `stopHashing()`.
    public func finishDigest() -> String? { digest?.finish() }

    /// Adds bytes read from elsewhere to the digest (a SQLite database's `-wal` after the database).
    func addToDigest(_ bytes: UnsafeRawBufferPointer) { digest?.update(bytes) }

    /// Stops hashing what is read: for an input whose hash is already known.
    public func stopHashing() { digest = nil }

    /// The regular file's stamp as it is now; nil for anything else.
    var stamp: FileStamp? { FileStamp(descriptor: descriptor) }

    /// Asked while a read of a pipe, FIFO or terminal waits for bytes (in steps of 100 ms): true ends the wait
    /// with an error and reads nothing more. A load a caller cancelled while it waited on standard input left
    /// its reader blocked in `read(2)`; the next load of `-` in the same process then lost the bytes that
    /// read took (350 records once, one rejected line the only trace).
    var isCancelled: (@Sendable () -> Bool)?

    private let descriptor: Int32
    private let closesDescriptor: Bool
    /// True once `read(2)` returned 0.
    private var reachedEnd = false
    /// Bytes read ahead by `lookahead(_:)`, handed out again by `read(into:)`.
    private var pending: [UInt8] = []
    private var pendingPosition = 0

    /// Opens `path` for reading (`-` is standard input); `isCancelled` as the property of that name.
    ///
    /// A FIFO is opened without waiting for its writer, and its first bytes (or its writer's end) are waited
    /// for as every read's are: opened the usual way, a load cancelled before anyone opened the FIFO for
    /// writing left its reader in `open(2)`, where no cancel reached it, until a writer came (whose bytes
    /// it then took and dropped).
    /// Throws `ReadError` of kind `.cannotOpen` when the path cannot be opened or is a directory, `.io` when
    /// `isCancelled` said stop while a FIFO's writer was awaited.
    public convenience init(path: String, isCancelled: (@Sendable () -> Bool)? = nil) throws(ReadError) {
        if path == "-" {
            guard !StandardStreams.inputWasClosed else {
                throw ReadError(source: "-", kind: .cannotOpen, message: "standard input is closed")
            }
            self.init(fileDescriptor: 0, name: "-", closeWhenDone: false)
            self.isCancelled = isCancelled
            return
        }
        if let closed = StandardStreams.closedStream(namedBy: path) {
            throw ReadError(source: path, kind: .cannotOpen, message: closed)
        }
        var named = stat()
        let isFIFO = stat(path, &named) == 0 && (named.st_mode & S_IFMT) == S_IFIFO
        let fd = open(path, O_RDONLY | O_CLOEXEC | (isFIFO ? O_NONBLOCK : 0))
        if fd < 0 {
            let reason = Self.errorText(errno)
            throw ReadError(source: path, kind: .cannotOpen, message: "cannot open: \(reason)")
        }
        if isFIFO {
            // Reads block again; the first waits (in `waitForBytes`) until a writer has written or come and gone:
            // a FIFO no writer has opened yet reports neither, while a read would return 0, an empty input.
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
            if !Self.waitForBytes(fd, isCancelled: isCancelled ?? { false }) {
                close(fd)
                throw ReadError(source: path, kind: .io, message: "stopped while waiting for input")
            }
        }
        var info = stat()
        if fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw ReadError(source: path, kind: .cannotOpen, message: "cannot open: is a directory")
        }
        self.init(fileDescriptor: fd, name: path, closeWhenDone: true)
        self.isCancelled = isCancelled
    }

    /// Refuses, without opening anything (opening a FIFO would wait for its writer), the inputs `init(path:)`
    /// is sure to refuse: a missing path, a folder, a file this user may not read (`access`), a closed
    /// standard input, standard input redirected from a folder. A load checks its inputs so before it
    /// creates or locks the database; what only reading tells (a read error) fails the load when it is read.
    static func checkOpenable(_ path: String) throws(ReadError) {
        var info = stat()
        if path == "-" {
            guard !StandardStreams.inputWasClosed else {
                throw ReadError(source: "-", kind: .cannotOpen, message: "standard input is closed")
            }
            guard fstat(STDIN_FILENO, &info) != 0 || (info.st_mode & S_IFMT) != S_IFDIR else {
                throw ReadError(source: "-", kind: .cannotOpen, message: "cannot open: is a directory")
            }
            return
        }
        if let closed = StandardStreams.closedStream(namedBy: path) {
            throw ReadError(source: path, kind: .cannotOpen, message: closed)
        }
        guard stat(path, &info) == 0 else {
            throw ReadError(source: path, kind: .cannotOpen, message: "cannot open: \(Self.errorText(errno))")
        }
        guard (info.st_mode & S_IFMT) != S_IFDIR else {
            throw ReadError(source: path, kind: .cannotOpen, message: "cannot open: is a directory")
        }
        // A file this user may not read failed only once the database and its lock were made.
        guard access(path, R_OK) == 0 else {
            throw ReadError(source: path, kind: .cannotOpen, message: "cannot open: \(Self.errorText(errno))")
        }
    }

    /// Wraps an open descriptor (a pipe end, a socket, standard input); closes it on release if `closeWhenDone`.
    public init(fileDescriptor: Int32, name: String, closeWhenDone: Bool) {
        self.descriptor = fileDescriptor
        self.name = name
        self.closesDescriptor = closeWhenDone
        var info = stat()
        if fstat(fileDescriptor, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG {
            // `{ read header; factpipe import -; } < file` hands over a file whose first bytes were read: the load
            // reads from there, and counted the whole size refused it as "the file shrank".
            let position = lseek(fileDescriptor, 0, SEEK_CUR)
            fileSize = max(0, Int64(info.st_size) - max(0, Int64(position)))
        } else {
            fileSize = nil
        }
    }

    deinit {
        if closesDescriptor {
            close(descriptor)
        }
    }

    /// False when a read would wait: a pipe, FIFO or terminal with nothing to read yet. A regular file, bytes
    /// read ahead, or a closed writer end (a read returns 0 at once) count as ready.
    func hasBytesReady() -> Bool {
        if fileSize != nil || pendingPosition < pending.count { return true }
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) != 0
    }

    /// Returns up to `count` bytes from the current position without consuming them (fewer only at end of input).
    ///
    /// Throws `ReadError` of kind `.io` when a read fails.
    func lookahead(_ count: Int) throws(ReadError) -> [UInt8] {
        var ahead = Array(pending[pendingPosition...])
        let wantedMore = count - ahead.count
        if wantedMore > 0 {
            let block = UnsafeMutableRawBufferPointer.allocate(byteCount: wantedMore, alignment: 1)
            defer { block.deallocate() }
            var filled = 0
            while filled < wantedMore {
                let got = try readDescriptor(into: UnsafeMutableRawBufferPointer(rebasing: block[filled...]))
                if got == 0 {
                    break
                }
                filled += got
            }
            ahead.append(contentsOf: block[0..<filled])
        }
        pending = ahead
        pendingPosition = 0
        return ahead
    }

    /// Fills `buffer` with the next bytes of the input and returns how many; 0 at end of input.
    ///
    /// Throws `ReadError` of kind `.io` when `read(2)` fails.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(ReadError) -> Int {
        if pendingPosition < pending.count {
            let count = min(buffer.count, pending.count - pendingPosition)
            pending.withUnsafeBytes { raw in
                let slice = raw[pendingPosition..<pendingPosition + count]
                buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: slice))
            }
            pendingPosition += count
            if pendingPosition == pending.count {
                pending = []
                pendingPosition = 0
            }
            return count
        }
        return try readDescriptor(into: buffer)
    }

    private func readDescriptor(into buffer: UnsafeMutableRawBufferPointer) throws(ReadError) -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else {
            return 0
        }
        // The end is read once: a terminal's end (Ctrl-D) is no lasting state, and a second read waited for
        // more, so that `import -` typed at a prompt took Ctrl-D three times to end.
        if reachedEnd { return 0 }
        while true {
            if fileSize == nil, let isCancelled, !waitForBytes(isCancelled: isCancelled) {
                throw ReadError(source: name, offset: bytesRead, kind: .io, message: "stopped while waiting for input")
            }
            let got = systemRead(descriptor, base, buffer.count)
            if got == 0, let fileSize, bytesRead < fileSize {
                // A regular file that ends early was truncated while it was read: what is missing would be
                // lost without a word, and the load recorded as done under the whole file's SHA-256.
                throw ReadError(
                    source: name, offset: bytesRead, kind: .io,
                    message: "the file shrank while it was read: it ended after \(bytesRead) of its \(fileSize) bytes")
            }
            if got == 0 { reachedEnd = true }
            if got >= 0 {
                bytesRead += Int64(got)
                digest?.update(UnsafeRawBufferPointer(start: base, count: got))
                return got
            }
            let code = errno
            if code == EINTR {
                continue
            }
            throw ReadError(source: name, kind: .io, message: "read failed: \(Self.errorText(code))")
        }
    }

    /// Waits until a read would not wait (bytes, the writer's end, an error); false when `isCancelled` said
    /// stop first, so that a stopped load takes no byte meant for whatever reads the input next.
    private func waitForBytes(isCancelled: () -> Bool) -> Bool {
        Self.waitForBytes(descriptor, isCancelled: isCancelled)
    }

    private static func waitForBytes(_ descriptor: Int32, isCancelled: () -> Bool) -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        while true {
            if isCancelled() { return false }
            let ready = poll(&entry, 1, 100)
            if ready > 0 || (ready < 0 && errno != EINTR) { return !isCancelled() }
        }
    }

    private static func errorText(_ code: Int32) -> String {
        guard let text = strerror(code) else {
            return "error \(code)"
        }
        return String(cString: text)
    }
}
