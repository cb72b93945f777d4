#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Opening and writing an output that may be a FIFO or a pipe without waiting inside a system call.
///
/// `open(2)` of a FIFO for writing waits until a process opens it for reading, and `write(2)` to a pipe
/// whose reader stopped reading waits until it reads again: neither wait can be ended by SIGINT or
/// SIGTERM here, since factpipe takes them through Dispatch sources, which interrupt no system call. A
/// load with `--rejects` on such a FIFO could only be ended by SIGKILL. These wait in steps of 20 ms
/// instead, asking `isCancelled` between them.
enum CancellableOutput {
    /// Bytes handed at a time to a pipe shared with other processes (standard output): at most
    /// `PIPE_BUF`, which a pipe that `poll(2)` reports writable takes whole, so the call does not wait.
    static let chunkBytes = Int(PIPE_BUF)

    /// `open(2)` of `path` for writing with `flags` (and `mode` when it creates). A FIFO (by `stat`) is
    /// opened without waiting in the call, tried again every 20 ms while no process reads it, and left
    /// non-blocking: the descriptor is this process's own, and `writeSome` waits for room where a signal
    /// can end the wait. Anything else is opened as `open(2)` would (`O_NONBLOCK` would make a leased file
    /// on a network share refuse the open). Returns the descriptor and whether it is non-blocking, or nil
    /// with `errno` set: `EINTR` when `isCancelled` ended the wait.
    static func open(
        _ path: String, flags: Int32, mode: mode_t, isCancelled: () -> Bool
    ) -> (descriptor: Int32, isNonBlocking: Bool)? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFIFO else {
            let descriptor = systemOpen(path, flags, mode)
            return descriptor >= 0 ? (descriptor, false) : nil
        }
        while true {
            let descriptor = systemOpen(path, flags | O_NONBLOCK, mode)
            if descriptor >= 0 { return (descriptor, true) }
            guard errno == ENXIO else { return nil }  // ENXIO: no process reads the FIFO yet
            if isCancelled() {
                errno = EINTR
                return nil
            }
            usleep(20_000)
        }
    }

    /// Writes some of the `count` bytes at `base` to `descriptor`, a pipe, FIFO or socket, waiting for
    /// room in steps of 20 ms: all it can at once when the descriptor is non-blocking (its own), at most
    /// `chunkBytes` once `poll(2)` says there is room when it is shared. Returns the bytes written, or -1
    /// with `errno` set: `EINTR` when `isCancelled` ended the wait.
    static func writeSome(
        _ descriptor: Int32, _ base: UnsafeRawPointer, _ count: Int, isNonBlocking: Bool, isCancelled: () -> Bool
    ) -> Int {
        while true {
            if !isNonBlocking, !waitUntilWritable(descriptor, isCancelled: isCancelled) {
                errno = EINTR
                return -1
            }
            let written = writeBytes(descriptor, base, isNonBlocking ? count : min(count, chunkBytes))
            if written >= 0 { return written }
            if errno == EINTR { continue }
            // Also on a shared descriptor: another program may have made it non-blocking (standard output
            // shared with a Node parent), and `poll` saying there is room does not promise room for a chunk.
            guard errno == EAGAIN || errno == EWOULDBLOCK else { return -1 }
            if !waitUntilWritable(descriptor, isCancelled: isCancelled) {
                errno = EINTR
                return -1
            }
        }
    }

    /// Waits until `descriptor` takes bytes (`POLLOUT`, or an error or hang-up the next write reports),
    /// in steps of 20 ms; false when `isCancelled` said stop first.
    private static func waitUntilWritable(_ descriptor: Int32, isCancelled: () -> Bool) -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
        while true {
            let ready = poll(&entry, 1, 20)
            if ready > 0 || (ready < 0 && errno != EINTR) { return true }
            if isCancelled() { return false }
        }
    }

    /// True when `descriptor` is a pipe, FIFO or socket: what a reader that stops reading can hold up.
    static func mayWait(_ descriptor: Int32) -> Bool {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return false }
        let kind = info.st_mode & S_IFMT
        return kind == S_IFIFO || kind == S_IFSOCK
    }

    /// What an output says when `isCancelled` ended its wait for a reader.
    static let stoppedWaiting = "stopped while waiting for a process to read it"
}

/// `open(2)`; outside the enum so that its own `open` does not hide the C function.
private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 {
    #if canImport(Glibc)
        Glibc.open(path, flags, mode)
    #else
        Darwin.open(path, flags, mode)
    #endif
}
