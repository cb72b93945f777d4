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
    /// Bytes handed to a pipe, FIFO or device at a time: at most `PIPE_BUF`, which a pipe that `poll(2)`
    /// reports writable takes whole, so the call does not wait.
    static let chunkBytes = Int(PIPE_BUF)

    /// `open(2)` of `path` with `flags` (and `mode` when it creates), never waiting in the call; a FIFO no
    /// process reads yet is tried again every 20 ms. Returns the descriptor, blocking as usual for
    /// writes, or -1 with `errno` set: `EINTR` when `isCancelled` ended the wait.
    static func open(_ path: String, flags: Int32, mode: mode_t, isCancelled: () -> Bool) -> Int32 {
        while true {
            let descriptor = systemOpen(path, flags | O_NONBLOCK, mode)
            if descriptor >= 0 {
                let status = fcntl(descriptor, F_GETFL)
                guard status >= 0, fcntl(descriptor, F_SETFL, status & ~O_NONBLOCK) == 0 else {
                    let code = errno
                    close(descriptor)
                    errno = code
                    return -1
                }
                return descriptor
            }
            // ENXIO is a FIFO without a reader, or a device that is not there: only the first is waited for.
            let code = errno
            var info = stat()
            guard code == ENXIO, stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFIFO else {
                errno = code
                return -1
            }
            if isCancelled() {
                errno = EINTR
                return -1
            }
            usleep(20_000)
        }
    }

    /// Waits until `descriptor` takes bytes without blocking (`POLLOUT`, or an error or hang-up the next
    /// write reports), in steps of 20 ms; false when `isCancelled` said stop first.
    static func waitUntilWritable(_ descriptor: Int32, isCancelled: () -> Bool) -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
        while true {
            let ready = poll(&entry, 1, 20)
            if ready > 0 || (ready < 0 && errno != EINTR) { return true }
            if isCancelled() { return false }
        }
    }

    /// True when `descriptor` is a pipe, FIFO, socket or device: what `write(2)` may wait on.
    static func mayWait(_ descriptor: Int32) -> Bool {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return false }
        let kind = info.st_mode & S_IFMT
        return kind != S_IFREG && kind != S_IFDIR
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
