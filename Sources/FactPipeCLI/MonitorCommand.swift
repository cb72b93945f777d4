import ArgumentParser
import Dispatch
import FactPipe
import FactPipeMonitorServer
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// `factpipe monitor`: serves a database's figures live over HTTP until SIGTERM, SIGINT, SIGQUIT or SIGHUP.
struct MonitorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Watch a database live: Prometheus metrics, Server-Sent Events and a page, over HTTP.",
        discussion: """
            Probes the database read-only every interval (it never writes to it and holds no read \
            transaction between probes) and serves:
              /metrics  Prometheus text exposition (counters, gauges, a lookup latency histogram)
              /events   Server-Sent Events, one JSON object an interval (curl -N)
              /         a self-contained page that draws the last hour live
              /healthz  200 while the database can be read, 503 and the reason otherwise
            It listens on loopback unless told otherwise, logs to standard error, and stops \
            cleanly on SIGTERM, SIGINT, SIGQUIT or SIGHUP (unless started with SIGHUP ignored, as nohup \
            does). Port 0 picks a free port (the log says which).

            Examples:
              factpipe monitor --db kb.sqlite
              factpipe monitor --db kb.sqlite --listen 127.0.0.1:9500 --interval 5
            """
    )

    @Option(name: .long, help: "The database to watch (read-only).")
    var db: String

    @Option(help: "Address and port to listen on; anything but loopback must be given explicitly.")
    var listen = "127.0.0.1:9464"

    @Option(parsing: .unconditional, help: "Seconds between probes of the database (0.05 to 3600).")
    var interval = 1.0

    @Option(name: .customLong("max-clients"), parsing: .unconditional, help: "Most connections served at once; more get 503.")
    var maxClients = 64

    @Option(
        name: .customLong("request-timeout"), parsing: .unconditional,
        help: "Seconds a connection has to send each request whole, or it is closed (0.1 to 3600).")
    var requestTimeout = 30.0

    /// Descriptors the monitor keeps open besides its clients', with room to spare.
    static let descriptorsBesideClients = 32

    func validate() throws {
        // A PostgreSQL address is refused, shown without its password (the page would otherwise serve it).
        if PostgreSQLAddress.isPostgreSQL(db) || DatabaseFile.looksLikePostgreSQL(db) { try PathArguments.checkDatabase(db) }
        // A database that is not there yet is waited for (its first load makes it); a path that can never be one
        // (empty, as an unset variable gives, a folder, a device, `:memory:`) is refused as every command refuses
        // it: served, it answered 503 for ever.
        if let problem = DatabaseFile.problem(db) {
            throw ValidationError("--db \(db.isEmpty ? "\"\"" : db): \(problem)")
        }
        guard ListenAddress(parsing: listen) != nil else {
            throw ValidationError(
                "--listen needs HOST:PORT or [IPv6]:PORT with a port from 0 to 65535, not '\(listen)'")
        }
        guard interval >= 0.05, interval <= 3_600 else {
            throw ValidationError("--interval must be from 0.05 to 3600 seconds")
        }
        guard maxClients >= 1, maxClients <= 10_000 else {
            throw ValidationError("--max-clients must be from 1 to 10000")
        }
        guard requestTimeout >= 0.1, requestTimeout <= 3_600 else {
            throw ValidationError("--request-timeout must be from 0.1 to 3600 seconds")
        }
    }

    func run() throws {
        guard let address = ListenAddress(parsing: listen) else { throw ExitCode(FactPipeExit.usage) }
        // Every client holds a descriptor; past the limit `accept` fails at once, again and again, and the
        // probe cannot open the database. Beside the clients: the database, its WAL and shared memory, the
        // event loop's own, standard streams.
        let needed = maxClients + Self.descriptorsBesideClients
        let allowed = OpenFileLimit.raise(toAtLeast: needed)
        guard allowed >= needed else {
            throw CommandFailure.exit(
                "monitor",
                CommandFailure.Usage(
                    underlying: CommandFailure.Problem(
                        "--max-clients \(maxClients) needs \(needed) open files, and this process may open "
                            + "\(allowed) (ulimit -n): lower --max-clients to \(max(allowed - Self.descriptorsBesideClients, 0)) "
                            + "or raise the limit")))
        }
        let log: @Sendable (String) -> Void = { Standard.error("factpipe monitor: \($0)") }
        var configuration = MonitorServerConfiguration(address: address)
        configuration.maxConnections = maxClients
        configuration.requestTimeout = .milliseconds(Int64(requestTimeout * 1_000))
        // Stop on a signal from the first moment: a handler of the monitor's own replaces the default action
        // (no moment in between when the signal is ignored, as SIG_IGN before a Dispatch source left: a
        // SIGTERM while the server bound was dropped and the monitor went on serving), and a signal that
        // comes before the server exists stops it as soon as it does.
        let stopping = StopRequest()
        do {
            try MonitorStopSignals.install { number in
                log("stopping (\(SignalTrap.name(of: number)))")
                stopping.request()
            }
        } catch {
            throw CommandFailure.exit("monitor", error)
        }
        let monitor = DatabaseMonitor(databasePath: db, interval: interval)
        let server: MonitorServer
        do {
            server = try MonitorServer(monitor: monitor, configuration: configuration, log: log)
        } catch {
            throw CommandFailure.exit("monitor", CannotListen(address: "\(address)", underlying: error))
        }
        stopping.whenRequested { server.stop() }
        if !server.boundAddress.isLoopback {
            log(
                "warning: listening on \(server.boundAddress), which is not loopback: anyone who reaches it sees "
                    + "the figures")
        }
        log(
            "serving http://\(server.boundAddress)/ for \(db), probing every \(interval) s "
                + "(/metrics, /events, /healthz)")
        try server.wait()
        log("stopped")
    }
}

/// The monitor's server could not listen on its address; the server's error is underneath.
struct CannotListen: Error, CustomStringConvertible {
    var address: String
    var underlying: any Error
    var description: String { "cannot listen on \(address): \(underlying)" }
}

/// A stop asked for by a signal, before or after there is a server to stop: `whenRequested` runs its
/// action at once when the request came first, else when it comes.
final class StopRequest: Sendable {
    private let state = Mutex<(requested: Bool, action: (@Sendable () -> Void)?)>((false, nil))

    func request() {
        let action = state.withLock { state -> (@Sendable () -> Void)? in
            state.requested = true
            return state.action
        }
        action?()
    }

    func whenRequested(_ action: @escaping @Sendable () -> Void) {
        let requested = state.withLock { state -> Bool in
            state.action = action
            return state.requested
        }
        if requested { action() }
    }
}

/// SIGINT, SIGTERM, SIGQUIT and SIGHUP (unless ignored at start) for the monitor: a `sigaction` handler writes the signal's number to a pipe
/// (all a handler may safely do), and a thread that reads the pipe runs the stop.
enum MonitorStopSignals {
    /// The pipe's write end, set before any handler is installed and never changed after.
    nonisolated(unsafe) private static var writeEnd: Int32 = -1

    static func install(_ onSignal: @escaping @Sendable (Int32) -> Void) throws {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else {
            throw CommandFailure.Problem("cannot make a pipe for signals: \(String(cString: strerror(errno)))")
        }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        writeEnd = ends[1]
        let readEnd = ends[0]
        DispatchQueue.global().async {
            var byte: UInt8 = 0
            while true {
                let got = read(readEnd, &byte, 1)
                if got == 1 { onSignal(Int32(byte)) } else if got < 0 && errno == EINTR { continue } else { return }
            }
        }
        // SIGHUP (the terminal closed, a service manager's hang-up) too, unless it was ignored when the monitor
        // started (`nohup`): it ended the monitor without a word (exit 129).
        // (Not `SignalTrap.stopSignals()`, which sets each to be ignored for a moment.)
        let stopSignals = [SIGINT, SIGTERM, SIGQUIT] + (SignalTrap.isIgnored(SIGHUP) ? [] : [SIGHUP])
        for number in stopSignals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in
                var byte = UInt8(truncatingIfNeeded: number)
                _ = write(MonitorStopSignals.writeEnd, &byte, 1)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(number, &action, nil)
        }
        // A parent may start it with these signals blocked (a signal then waits, pending, for ever): taken
        // here, they are let through, those already pending too.
        var mask = sigset_t()
        sigemptyset(&mask)
        for number in stopSignals { sigaddset(&mask, number) }
        pthread_sigmask(SIG_UNBLOCK, &mask, nil)
    }
}
