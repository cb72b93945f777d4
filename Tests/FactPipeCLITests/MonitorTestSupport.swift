import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A running `factpipe monitor`, started on a free port of 127.0.0.1 (port 0; its log says which).
final class MonitorProcess {
    let background: BackgroundProcess
    private let stderrPath: String
    let workspace: CLIWorkspace
    private(set) var port = 0

    /// Starts the monitor of `database` and waits until it serves.
    /// `shell` runs in the shell that starts the monitor, before it (`ulimit -Sn 40;`).
    init(
        database: String, interval: Double = 0.1, extra: [String] = [], shell: String = "", in workspace: CLIWorkspace
    ) throws {
        self.workspace = workspace
        stderrPath = workspace.path("monitor-\(UUID().uuidString).log")
        // Through sh, so the log is a file this test can read while the monitor runs.
        let command = shell + "exec \"$0\" \"$@\" 2>\(stderrPath)"
        background = try BackgroundProcess(
            URL(fileURLWithPath: "/bin/sh"),
            [
                "-c", command, BinaryLocator.factpipe.path, "monitor", "--db", database, "--listen", "127.0.0.1:0",
                "--interval", String(interval),
            ] + extra)
        let served = poll(timeout: 30) { self.readPort() != nil || !self.background.isRunning }
        guard served, let port = readPort() else {
            throw CLITestFailure(description: "the monitor did not start: \(log)")
        }
        self.port = port
    }

    deinit {
        if background.isRunning { kill(background.pid, SIGKILL) }
    }

    /// What the monitor wrote to standard error so far.
    var log: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    var url: String { "http://127.0.0.1:\(port)" }

    private func readPort() -> Int? {
        guard let range = log.range(of: "serving http://127.0.0.1:") else { return nil }
        return Int(log[range.upperBound...].prefix { $0.isNumber })
    }

    /// The monitor's resident memory now, from `/proc/PID/status`, in bytes.
    func residentBytes() throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(background.pid)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        return try #require(Int(line.filter(\.isNumber))) * 1024
    }

    /// `GET path` through curl: the status code and the body.
    func get(_ path: String) throws -> (status: Int, body: String) {
        let run = try Factpipe.runProcess(
            URL(fileURLWithPath: "/usr/bin/curl"), ["-s", "--max-time", "10", "-w", "\n%{http_code}", url + path])
        var lines = run.stdoutText.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.popLast() ?? "") ?? 0
        return (status, lines.joined(separator: "\n"))
    }

    /// `/metrics` parsed by Prometheus' own Python parser: every sample without labels by name, and
    /// every labelled sample as `name{label="value",…}` with labels sorted.
    func metrics() throws -> [String: Double] {
        let run = try Python.run(Python.parseMetrics, [url + "/metrics"])
        guard run.status == 0 else { throw CLITestFailure(description: "metrics parser: \(run.stderr)") }
        let object = try #require(try JSONSerialization.jsonObject(with: run.stdout) as? [String: Double])
        return object
    }

    /// A `/metrics` figure, polled until the monitor has one.
    func metric(_ name: String) throws -> Double? {
        try metrics()[name]
    }
}

/// External tools the monitor's tests use, and whether they may be missing here.
enum MonitorTools {
    /// Under CI every tool must be there (scripts/setup installs them); elsewhere a test may skip.
    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    static var chromium: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static var hasPrometheusParser: Bool {
        (try? Python.run("import prometheus_client.parser", []).status) == 0
    }

    static var chromiumOrCI: Bool { chromium != nil || isCI }
    static var parserOrCI: Bool { hasPrometheusParser || isCI }
}

/// Python 3 programs run as real clients of the monitor.
enum Python {
    static func run(_ program: String, _ arguments: [String]) throws -> FactpipeRun {
        try Factpipe.runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", program] + arguments)
    }

    static func start(_ program: String, _ arguments: [String]) throws -> BackgroundProcess {
        try BackgroundProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", program] + arguments)
    }

    /// Fetches `/metrics` (argv[1]) and prints its samples, parsed by prometheus_client, as JSON.
    static let parseMetrics = """
        import json, sys, urllib.request
        from prometheus_client.parser import text_string_to_metric_families
        text = urllib.request.urlopen(sys.argv[1], timeout=10).read().decode()
        out = {}
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                key = s.name
                if s.labels:
                    key += "{" + ",".join('%s="%s"' % (k, s.labels[k]) for k in sorted(s.labels)) + "}"
                out[key] = s.value
        print(json.dumps(out))
        """

    /// Polls `/metrics` (argv[1]) every 20 ms until the file argv[2] exists; prints one JSON line per
    /// poll with the parsed `factpipe_inserted_total`, `factpipe_records_total` and `factpipe_up`.
    static let pollMetrics = """
        import json, os, sys, time, urllib.request
        from prometheus_client.parser import text_string_to_metric_families
        url, stop = sys.argv[1], sys.argv[2]
        while not os.path.exists(stop):
            text = urllib.request.urlopen(url, timeout=10).read().decode()
            values = {}
            for family in text_string_to_metric_families(text):
                for s in family.samples:
                    if not s.labels:
                        values[s.name] = s.value
            print(json.dumps({k: values.get(k) for k in
                ("factpipe_inserted_total", "factpipe_records_total", "factpipe_up", "factpipe_running_loads")}),
                flush=True)
            time.sleep(0.02)
        """

    /// Connects to 127.0.0.1:argv[1] with a tiny receive buffer, asks for `/events` and never reads;
    /// prints "connected" and holds the connection until stdin closes or argv[2] seconds pass.
    static let slowEventsClient = """
        import socket, sys, time
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", int(sys.argv[1])))
        s.sendall(b"GET /events HTTP/1.1\\r\\nHost: monitor\\r\\n\\r\\n")
        print("connected", flush=True)
        time.sleep(float(sys.argv[2]))
        """

    /// Sends up to argv[2] pipelined `GET /` on one connection to 127.0.0.1:argv[1] without reading an
    /// answer (until a send waits longer than argv[3] seconds), then, the connection still open, prints
    /// how many it sent and the resident bytes of process argv[4] (the monitor), as JSON.
    static let pipeliningClient = """
        import json, socket, sys
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", int(sys.argv[1])))
        s.settimeout(float(sys.argv[3]))
        requests = b"GET / HTTP/1.1\\r\\nHost: monitor\\r\\n\\r\\n" * 1000
        sent = 0
        try:
            while sent < int(sys.argv[2]):
                s.sendall(requests)
                sent += 1000
        except socket.timeout:
            pass
        status = open("/proc/%s/status" % sys.argv[4]).read()
        rss = int(next(l for l in status.splitlines() if l.startswith("VmRSS:")).split()[1]) * 1024
        print(json.dumps({"sent": sent, "rss": rss}), flush=True)
        s.close()
        """

    /// Sends argv[2] pipelined `GET /` and then one `GET /healthz` on one connection to 127.0.0.1:argv[1]
    /// with a small receive buffer, waits a second (so that the monitor holds answers back), then reads
    /// every answer in turn (by its Content-Length) and prints the status codes and the last answer's
    /// body as JSON.
    static let pipelinedAnswersClient = """
        import json, socket, sys, time
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(30)
        s.connect(("127.0.0.1", int(sys.argv[1])))
        count = int(sys.argv[2])
        s.sendall(b"GET / HTTP/1.1\\r\\nHost: monitor\\r\\n\\r\\n" * count
                  + b"GET /healthz HTTP/1.1\\r\\nHost: monitor\\r\\n\\r\\n")
        time.sleep(1)
        buffered = b""
        def take(size):
            global buffered
            while len(buffered) < size:
                chunk = s.recv(65536)
                if not chunk:
                    raise SystemExit("the connection closed after %d answers" % len(codes))
                buffered += chunk
            part, buffered = buffered[:size], buffered[size:]
            return part
        codes, body = [], b""
        for _ in range(count + 1):
            while b"\\r\\n\\r\\n" not in buffered:
                chunk = s.recv(65536)
                if not chunk:
                    raise SystemExit("the connection closed after %d answers" % len(codes))
                buffered += chunk
            head, buffered = buffered.split(b"\\r\\n\\r\\n", 1)
            lines = head.decode().split("\\r\\n")
            codes.append(int(lines[0].split(" ")[1]))
            length = next(int(l.split(":", 1)[1]) for l in lines[1:] if l.lower().startswith("content-length:"))
            body = take(length)
        print(json.dumps({"codes": codes, "last": body.decode()}))
        """

    /// Opens argv[2] connections to 127.0.0.1:argv[1] at once, sends `GET argv[3]` on each, reads every
    /// answer to its end and prints the status codes as JSON.
    static let manyClients = """
        import json, socket, sys
        port, count, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
        sockets = [socket.create_connection(("127.0.0.1", port), timeout=20) for _ in range(count)]
        for s in sockets:
            s.sendall(("GET %s HTTP/1.1\\r\\nHost: monitor\\r\\nConnection: close\\r\\n\\r\\n" % path).encode())
        codes = []
        for s in sockets:
            data = b""
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except (ConnectionResetError, socket.timeout):
                pass
            codes.append(int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.") else 0)
            s.close()
        print(json.dumps(codes))
        """

    /// Holds argv[2] `/events` streams to 127.0.0.1:argv[1] open (each read up to its first event),
    /// then prints the status line of one more `GET /healthz`.
    static let holdStreams = """
        import socket, sys
        port, count = int(sys.argv[1]), int(sys.argv[2])
        held = []
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", port), timeout=20)
            s.sendall(b"GET /events HTTP/1.1\\r\\nHost: monitor\\r\\n\\r\\n")
            data = b""
            while b"event: history" not in data:
                data += s.recv(65536)
            held.append(s)
        extra = socket.create_connection(("127.0.0.1", port), timeout=20)
        extra.sendall(b"GET /healthz HTTP/1.1\\r\\nHost: monitor\\r\\nConnection: close\\r\\n\\r\\n")
        data = b""
        while True:
            chunk = extra.recv(65536)
            if not chunk:
                break
            data += chunk
        print(data.split(b"\\r\\n", 1)[0].decode())
        """
}
