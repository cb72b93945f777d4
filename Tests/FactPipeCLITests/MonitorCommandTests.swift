import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `factpipe monitor` end to end: the built binary on a free port, real imports, real clients (curl,
/// Prometheus' Python parser, raw sockets, headless Chromium).
@Suite(.serialized)
struct MonitorCommandTests {
    /// Writes `count` generated NDJSON facts to `name` in `workspace`.
    private func facts(_ count: Int, _ name: String, seed: Int = 1, in workspace: CLIWorkspace) throws -> String {
        let path = workspace.path(name)
        let run = try Factpipe.run(["generate", "--facts", String(count), "--seed", String(seed), "-o", path, "-q"])
        #expect(run.status == 0, "\(run.stderr)")
        return path
    }

    /// A path that can never be a database (empty, as an unset variable gives, a folder, a device,
    /// `:memory:`) is refused at once, as by every other command: it was served, answering 503 for ever.
    @Test(arguments: ["", "/tmp", "/dev/null", ":memory:"])
    func aPathThatCanNeverBeADatabaseIsRefused(_ path: String) throws {
        let run = try Factpipe.runProcess(
            URL(fileURLWithPath: "/usr/bin/timeout"), ["5", BinaryLocator.factpipe.path, "monitor", "--db", path])
        #expect(run.status == 64, "\(path): \(run.stderr)")
        #expect(run.stderr.contains("--db "), "\(run.stderr)")
    }

    @Test(.enabled(if: MonitorTools.parserOrCI, "needs python3 prometheus_client (scripts/setup installs it)"))
    func insertedCounterRisesDuringAnImportAndNeverFalls() throws {
        let workspace = try CLIWorkspace()
        let input = try facts(200_000, "big.ndjson", in: workspace)
        let monitor = try MonitorProcess(database: workspace.database, interval: 0.1, in: workspace)
        // No database yet: the monitor waits for one and says why it cannot read.
        #expect(try monitor.get("/healthz").status == 503)

        let stop = workspace.path("stop-polling")
        let poller = try Python.start(Python.pollMetrics, [monitor.url + "/metrics", stop])
        let load = try Factpipe.run(["import", input, "--db", workspace.database, "--batch-size", "2000"])
        #expect(load.status == 0, "\(load.stderr)")
        let inserted = try SQLiteFile.int(workspace.database, "SELECT sum(inserted) FROM factpipe_loads")
        // The counter reaches the ledger's figure once the monitor has probed the finished load.
        #expect(poll(timeout: 30) { (try? monitor.metric("factpipe_inserted_total")) == Double(inserted) })
        _ = FileManager.default.createFile(atPath: stop, contents: nil)
        let polled = try poller.wait()
        #expect(polled.status == 0, "\(polled.stderr)")

        let readings = try polled.stdoutText.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        let counts = readings.compactMap { $0["factpipe_inserted_total"] as? Double }
        #expect(counts.count > 10, "\(readings.count) readings")
        for (earlier, later) in zip(counts, counts.dropFirst()) {
            #expect(later >= earlier, "the inserted counter fell from \(earlier) to \(later)")
        }
        // Seen rising while the load ran: values strictly between nothing and everything.
        let during = Set(counts.filter { $0 > 0 && $0 < Double(inserted) })
        #expect(!during.isEmpty, "no reading while the load ran: \(Set(counts).sorted())")
        #expect(readings.contains { ($0["factpipe_running_loads"] as? Double) == 1 })
        #expect(counts.last == Double(inserted))

        // The fact count is probed now and then, not every interval: wait until a probe has seen the end.
        var metrics = try monitor.metrics()
        _ = try poll(timeout: 30) {
            metrics = try monitor.metrics()
            return metrics["factpipe_facts"] == Double(inserted)
        }
        #expect(metrics["factpipe_up"] == 1)
        #expect(metrics["factpipe_facts"] == Double(inserted))
        #expect(metrics["factpipe_records_total"] == 200_000)
        #expect(metrics["factpipe_loads_total{status=\"done\"}"] == 1)
        #expect(metrics["factpipe_last_load_inserted"] == Double(inserted))
        #expect((metrics["process_resident_memory_bytes"] ?? 0) > 1_000_000)
        #expect((metrics["factpipe_lookup_seconds_count{lookup=\"statement\"}"] ?? 0) > 0)
        #expect(
            metrics["factpipe_lookup_seconds_bucket{le=\"+Inf\",lookup=\"subject\"}"]
                == metrics["factpipe_lookup_seconds_count{lookup=\"subject\"}"])
        #expect(try monitor.get("/healthz") == (200, "ok\n"))
        // No read transaction outlives a probe: a writer can checkpoint the whole WAL and truncate it
        // while the monitor keeps probing (the busy handler waits out a probe that is under way).
        let checkpoint = try Factpipe.tool(
            "/usr/bin/sqlite3", [workspace.database, ".timeout 5000", "PRAGMA wal_checkpoint(TRUNCATE)"])
        #expect(checkpoint.stdoutText.hasPrefix("0|"), "\(checkpoint.stdoutText)")
        #expect((fileSize(workspace.database + "-wal") ?? 0) == 0)
    }

    @Test func eventsStreamTheHistoryThenOneEventAnInterval() throws {
        let workspace = try CLIWorkspace()
        let input = try facts(2_000, "small.ndjson", in: workspace)
        #expect(try Factpipe.run(["import", input, "--db", workspace.database]).status == 0)
        let facts = try SQLiteFile.int(workspace.database, "SELECT count(*) FROM facts")
        let monitor = try MonitorProcess(database: workspace.database, interval: 0.2, in: workspace)
        let run = try Factpipe.runProcess(
            URL(fileURLWithPath: "/usr/bin/curl"), ["-s", "-N", "--max-time", "1.5", monitor.url + "/events"])
        // curl exits 28 when --max-time ends the stream, as it must for a stream that never ends.
        #expect(run.status == 28, "\(run.stderr)")
        let lines = run.stdoutText.split(separator: "\n")
        #expect(lines.first == "retry: 2000")
        #expect(lines.dropFirst().first == "event: history")
        let events = try lines.dropFirst(3).filter { $0.hasPrefix("data: ") }.map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any])
        }
        #expect(events.count >= 3, "\(run.stdoutText)")
        let times = events.compactMap { $0["time"] as? Double }
        #expect(times == times.sorted() && Set(times).count == times.count)
        for event in events {
            #expect(event["healthy"] as? Bool == true)
            #expect(int(event, "facts") == facts)
            #expect((event["loads"] as? [[String: Any]])?.first?["status"] as? String == "done")
            #expect(int(event, "residentBytes") ?? 0 > 0)
        }
    }

    @Test func leavesAnIdleDatabaseAsItWas() throws {
        let workspace = try CLIWorkspace()
        let input = try facts(1_000, "small.ndjson", in: workspace)
        #expect(try Factpipe.run(["import", input, "--db", workspace.database]).status == 0)
        let before = try sha256sum(workspace.database)
        let monitor = try MonitorProcess(database: workspace.database, interval: 0.05, in: workspace)
        #expect(poll(timeout: 20) { ((try? monitor.metric("factpipe_monitor_probes_total")) ?? 0) >= 10 })
        #expect(try sha256sum(workspace.database) == before)
        #expect(!FileManager.default.fileExists(atPath: workspace.database + "-wal"))
        #expect(!FileManager.default.fileExists(atPath: workspace.database + "-shm"))
    }

    @Test(.enabled(if: MonitorTools.chromiumOrCI, "needs Debian's chromium (scripts/setup installs it)"))
    func pageDrawsTheChartsWithData() throws {
        let workspace = try CLIWorkspace()
        let input = try facts(5_000, "small.ndjson", in: workspace)
        #expect(try Factpipe.run(["import", input, "--db", workspace.database]).status == 0)
        let monitor = try MonitorProcess(database: workspace.database, interval: 0.1, in: workspace)
        // Six seconds of probes: below a second an interval the history keeps a point a second.
        #expect(poll(timeout: 30) { ((try? monitor.metric("factpipe_monitor_probes_total")) ?? 0) >= 60 })
        let served = try monitor.get("/")
        #expect(served.status == 200)
        #expect(!served.body.contains("http://") && !served.body.contains("https://"), "the page needs no network")

        let chromium = try #require(MonitorTools.chromium, "chromium is missing")
        // `?events=3` closes the stream after three events, so that the virtual time budget can run
        // out (it stands still while a fetch is open); `timeout` bounds a browser that would hang.
        let page = monitor.url + "/?events=3"
        let common = [
            "90", chromium, "--headless", "--no-sandbox", "--disable-gpu",
            "--user-data-dir=\(workspace.path("chromium-profile"))", "--virtual-time-budget=10000",
            "--window-size=1280,900",
        ]
        let timeout = URL(fileURLWithPath: "/usr/bin/timeout")
        let dom = try Factpipe.runProcess(timeout, common + ["--dump-dom", page])
        #expect(dom.status == 0, "\(dom.stderr)")
        let html = dom.stdoutText
        let total = try #require(attribute("data-points", in: html, after: "<body"), "\(html.prefix(300))")
        #expect(total >= 5, "\(html.prefix(400))")
        #expect(attribute("data-events", in: html, after: "<body") == 3)
        #expect(html.contains("id=\"state\" class=\"ok\">up<"))
        for chart in ["c-rate", "c-lookup", "c-rss", "c-size"] {
            let points = try #require(attribute("data-points", in: html, after: "id=\"\(chart)\""), "\(chart)")
            #expect(points >= 5, "\(chart) drew \(points) points")
        }
        let screenshot = workspace.path("page.png")
        let shot = try Factpipe.runProcess(timeout, common + ["--screenshot=\(screenshot)", page])
        #expect(shot.status == 0, "\(shot.stderr)")
        let png = try Data(contentsOf: URL(fileURLWithPath: screenshot))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 10_000)
    }

    @Test(.enabled(if: MonitorTools.parserOrCI, "needs python3 prometheus_client (scripts/setup installs it)"))
    func slowEventClientIsDroppedAndHundredClientsKeepMemoryBounded() throws {
        let workspace = try CLIWorkspace()
        let input = try facts(2_000, "small.ndjson", in: workspace)
        #expect(try Factpipe.run(["import", input, "--db", workspace.database]).status == 0)
        let monitor = try MonitorProcess(database: workspace.database, interval: 0.05, in: workspace)
        #expect(poll(timeout: 20) { ((try? monitor.metric("factpipe_monitor_probes_total")) ?? 0) >= 5 })
        let before = try monitor.residentBytes()

        // Three clients that stop reading are all dropped; the log names the first (then every hundredth),
        // so that clients doing so again and again cannot fill it.
        let slow = try (0..<3).map { _ in try Python.start(Python.slowEventsClient, [String(monitor.port), "120"]) }
        defer { for client in slow { client.killNine() } }
        #expect(
            poll(timeout: 60) {
                ((try? monitor.metric("factpipe_monitor_event_clients_dropped_total")) ?? 0) >= 3
            }, "the clients that stopped reading were not dropped: \(monitor.log)")
        #expect(monitor.log.components(separatedBy: "dropped an /events client").count - 1 == 1, "\(monitor.log)")
        #expect(monitor.log.contains("that stopped reading (1 dropped so far)"))

        for path in ["/metrics", "/"] {
            let many = try Python.run(Python.manyClients, [String(monitor.port), "100", path])
            #expect(many.status == 0, "\(many.stderr)")
            let codes = try #require(try JSONSerialization.jsonObject(with: many.stdout) as? [Int])
            #expect(codes.count == 100 && codes.allSatisfy { $0 == 200 || $0 == 503 }, "\(codes)")
            #expect(codes.contains(200))
        }
        let after = try monitor.residentBytes()
        #expect(after - before < 24 << 20, "RSS grew from \(before) to \(after) bytes")
        #expect(try monitor.get("/healthz").status == 200)
    }

    /// A client that pipelines requests and never reads the answers gets no more answers than the
    /// write buffer holds: it used to have every answer queued, 1.8 GB for 200,000 `GET /`.
    @Test func aClientPipeliningRequestsWithoutReadingKeepsMemoryBounded() throws {
        let workspace = try CLIWorkspace()
        let input = try facts(500, "small.ndjson", in: workspace)
        #expect(try Factpipe.run(["import", input, "--db", workspace.database]).status == 0)
        let monitor = try MonitorProcess(database: workspace.database, interval: 0.1, in: workspace)
        #expect(poll(timeout: 20) { ((try? monitor.metric("factpipe_monitor_probes_total")) ?? 0) >= 2 })
        let before = try monitor.residentBytes()

        let client = try Python.run(
            Python.pipeliningClient, [String(monitor.port), "200000", "3", String(monitor.background.pid)])
        #expect(client.status == 0, "\(client.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: client.stdout) as? [String: Int])
        let after = try #require(json["rss"])
        #expect((json["sent"] ?? 0) >= 1_000, "\(json)")
        #expect(after - before < 24 << 20, "RSS grew from \(before) to \(after) bytes after \(json["sent"] ?? 0) requests")
        #expect(try monitor.get("/healthz").status == 200, "another client is still answered")

        // A client that reads after pipelining gets every answer, in order, those held back included.
        let reader = try Python.run(Python.pipelinedAnswersClient, [String(monitor.port), "300"])
        #expect(reader.status == 0, "\(reader.stderr)")
        let answers = try #require(try JSONSerialization.jsonObject(with: reader.stdout) as? [String: Any])
        let codes = try #require(answers["codes"] as? [Int])
        #expect(codes.count == 301 && codes.allSatisfy { $0 == 200 }, "\(codes.count) answers")
        #expect(answers["last"] as? String == "ok\n", "the /healthz answer comes last")
    }

    @Test func refusesConnectionsBeyondMaxClients() throws {
        let workspace = try CLIWorkspace()
        let input = try facts(500, "small.ndjson", in: workspace)
        #expect(try Factpipe.run(["import", input, "--db", workspace.database]).status == 0)
        let monitor = try MonitorProcess(
            database: workspace.database, interval: 0.1, extra: ["--max-clients", "4"], in: workspace)
        let run = try Python.run(Python.holdStreams, [String(monitor.port), "4"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "HTTP/1.1 503 Service Unavailable")
        #expect(poll(timeout: 10) { (try? monitor.get("/healthz").status) == 200 }, "the streams' slots were not freed")
    }

    /// Each client holds a descriptor: under a soft `ulimit -n` below `--max-clients` the monitor raises
    /// its own limit (it spun on failing `accept`s, and its probe could not open the database); under a
    /// hard one it refuses to start.
    @Test func maxClientsBeyondTheOpenFileLimitIsServedOrRefused() throws {
        let workspace = try CLIWorkspace()
        let input = try facts(500, "small.ndjson", in: workspace)
        #expect(try Factpipe.run(["import", input, "--db", workspace.database]).status == 0)

        let hard = try Factpipe.runProcess(
            URL(fileURLWithPath: "/bin/sh"),
            [
                "-c", "ulimit -n 40; exec timeout 20 \"$0\" \"$@\"", BinaryLocator.factpipe.path, "monitor", "--db",
                workspace.database, "--listen", "127.0.0.1:0", "--max-clients", "100",
            ])
        #expect(hard.status == 64, "\(hard.stderr)")
        #expect(hard.stderr.contains("--max-clients 100 needs 132 open files, and this process may open 40 (ulimit -n)"))

        let monitor = try MonitorProcess(
            database: workspace.database, extra: ["--max-clients", "100"], shell: "ulimit -Sn 40; ", in: workspace)
        let run = try Python.run(Python.holdStreams, [String(monitor.port), "80"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "HTTP/1.1 200 OK")
        #expect(try monitor.metric("factpipe_up") == 1, "the probe opens the database with 80 clients connected")
    }

    /// With its descriptors used up by waiting clients, accept fails at once and the listening socket stays
    /// readable: the loop tried again without a pause and spun (this debug build: 2.8 s of CPU in 3 s) until
    /// the clients left. It pauses between tries now (1.0-1.6 s, the rest being the refusals of the clients
    /// that keep coming as descriptors free up), and serves again once they are gone.
    @Test func aMonitorOutOfDescriptorsDoesNotSpin() throws {
        let workspace = try CLIWorkspace()
        let input = try facts(500, "small.ndjson", in: workspace)
        #expect(try Factpipe.run(["import", input, "--db", workspace.database]).status == 0)
        let monitor = try MonitorProcess(
            database: workspace.database, extra: ["--max-clients", "4"], shell: "ulimit -Sn 40; ", in: workspace)
        func cpuTicks() throws -> Int {
            let stat = try String(contentsOfFile: "/proc/\(monitor.background.pid)/stat", encoding: .utf8)
            let fields = stat[stat.index(after: try #require(stat.lastIndex(of: ")")))...].split(separator: " ")
            return (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)
        }
        let script = """
            import socket, sys, time
            socks = []
            for _ in range(150):
                try:
                    socks.append(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2))
                except OSError:
                    pass
            time.sleep(5)
            """
        let clients = try BackgroundProcess(URL(fileURLWithPath: "/usr/bin/python3"), ["-c", script, String(monitor.port)])
        Thread.sleep(forTimeInterval: 1.5)
        let before = try cpuTicks()
        Thread.sleep(forTimeInterval: 3)
        let used = Double(try cpuTicks() - before) / Double(sysconf(Int32(_SC_CLK_TCK)))
        try clients.wait()
        #expect(used < 2.2, "the monitor used \(used) s of CPU in 3 s with its descriptors used up")
        let served = poll(timeout: 10) { (try? monitor.get("/healthz").status) == 200 }
        #expect(served, "\(monitor.log)")
    }

    /// Clients that trickle a request a byte at a time (which resets any read timeout) are closed once
    /// their request is not whole in time, so a few of them cannot hold every connection.
    @Test func closesConnectionsWhoseRequestIsNotWholeInTime() throws {
        let workspace = try CLIWorkspace()
        let input = try facts(500, "small.ndjson", in: workspace)
        #expect(try Factpipe.run(["import", input, "--db", workspace.database]).status == 0)
        let monitor = try MonitorProcess(
            database: workspace.database, interval: 0.1, extra: ["--max-clients", "4", "--request-timeout", "1"],
            in: workspace)
        let script = """
            import json, socket, sys, time
            port, n = int(sys.argv[1]), int(sys.argv[2])
            socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
            for s in socks:
                s.settimeout(0.05)
                s.send(b"GET /healthz HTTP/1.1\\r\\nHost: x\\r\\nX-Slow: ")
            start, closed = time.time(), [None] * n
            while time.time() - start < 8 and None in closed:
                for k, s in enumerate(socks):
                    if closed[k] is not None:
                        continue
                    try:
                        s.send(b"a")
                        if s.recv(100) == b"":
                            closed[k] = time.time() - start
                    except socket.timeout:
                        pass
                    except OSError:
                        closed[k] = time.time() - start
                time.sleep(0.3)
            print(json.dumps(closed))
            """
        let run = try Factpipe.runProcess(URL(fileURLWithPath: "/usr/bin/python3"), ["-c", script, String(monitor.port), "4"])
        #expect(run.status == 0, "\(run.stderr)")
        let closed = try #require(try JSONSerialization.jsonObject(with: run.stdout) as? [Any])
        let seconds = closed.compactMap { $0 as? Double }
        #expect(seconds.count == 4 && seconds.allSatisfy { $0 < 4 }, "closed after \(closed) s")
        #expect(try monitor.get("/healthz").status == 200)
    }

    @Test func stopsWithinASecondOnSIGTERM() throws {
        let workspace = try CLIWorkspace()
        let input = try facts(500, "small.ndjson", in: workspace)
        #expect(try Factpipe.run(["import", input, "--db", workspace.database]).status == 0)
        let monitor = try MonitorProcess(database: workspace.database, interval: 0.1, in: workspace)
        let stream = try BackgroundProcess(
            URL(fileURLWithPath: "/usr/bin/curl"), ["-s", "-N", "--max-time", "60", monitor.url + "/events"])
        #expect(poll(timeout: 10) { ((try? monitor.metric("factpipe_monitor_event_clients")) ?? 0) == 1 })
        let signalled = Date()
        kill(monitor.background.pid, SIGTERM)
        let run = try monitor.background.wait()
        let seconds = (monitor.background.exitedAt ?? Date()).timeIntervalSince(signalled)
        #expect(seconds < 1, "took \(seconds) s to stop")
        #expect(run.status == 0)
        #expect(monitor.log.contains("stopping (SIGTERM)"))
        // The open stream was ended, not left hanging.
        let curl = try stream.wait()
        #expect(curl.status == 0 || curl.status == 18, "curl exited \(curl.status)")
    }

    /// A SIGHUP (the terminal closed) ended the monitor without a word, exit 129. It stops as on SIGTERM now,
    /// unless it was started with SIGHUP ignored (`nohup`), which it keeps.
    @Test(arguments: [false, true])
    func aHangUpStopsItUnlessItWasIgnored(ignored: Bool) throws {
        let workspace = try CLIWorkspace()
        let input = try facts(500, "small.ndjson", in: workspace)
        #expect(try Factpipe.run(["import", input, "--db", workspace.database]).status == 0)
        let monitor = try MonitorProcess(
            database: workspace.database, interval: 0.1, shell: ignored ? "trap '' HUP; " : "", in: workspace)
        kill(monitor.background.pid, SIGHUP)
        if ignored {
            Thread.sleep(forTimeInterval: 0.5)
            #expect(monitor.background.isRunning)
            #expect(try monitor.get("/healthz").status == 200)
            kill(monitor.background.pid, SIGTERM)
        }
        // (This test's own children start with SIGHUP blocked: a monitor that does not take it would wait for
        // ever, not stop.)
        let stopped = poll(timeout: 10) { !monitor.background.isRunning }
        #expect(stopped, "still running 10 s after the signal: \(monitor.log)")
        if !stopped { kill(monitor.background.pid, SIGKILL) }
        let run = try monitor.background.wait()
        #expect(run.status == 0)
        #expect(monitor.log.contains(ignored ? "stopping (SIGTERM)" : "stopping (SIGHUP)"), "\(monitor.log)")
        #expect(monitor.log.contains("factpipe monitor: stopped"), "\(monitor.log)")
    }

    /// A SIGTERM in the milliseconds after the start, while the server binds, stops the monitor as one
    /// after it does (it was ignored there, and the monitor went on serving).
    @Test func aSIGTERMRightAfterTheStartStopsIt() throws {
        let workspace = try CLIWorkspace()
        let input = try facts(10, "small.ndjson", in: workspace)
        #expect(try Factpipe.run(["import", input, "--db", workspace.database, "-q"]).status == 0)
        var survivors: [Int] = []
        for delay in stride(from: 0, to: 150, by: 2) {
            // Started as a shell starts it: no signal blocked or ignored (the test runner's children inherit
            // a mask under which a signal before the monitor's own handling would wait, not act).
            let monitor = try BackgroundProcess(URL(fileURLWithPath: "/usr/bin/python3"), [
                "-c", "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); "
                    + "[signal.signal(s, signal.SIG_DFL) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)]; "
                    + "os.execv(sys.argv[1], sys.argv[1:])",
                BinaryLocator.factpipe.path, "monitor", "--db", workspace.database, "--listen", "127.0.0.1:0",
            ])
            usleep(useconds_t(delay * 1_000))
            kill(monitor.pid, SIGTERM)
            if !poll(timeout: 5, { !monitor.isRunning }) {
                survivors.append(delay)
                monitor.killNine()
            }
            _ = try monitor.wait()
        }
        #expect(survivors.isEmpty, "went on serving after a SIGTERM at these milliseconds: \(survivors)")
    }

    @Test func healthzIs503WhileTheDatabaseCannotBeRead() throws {
        let workspace = try CLIWorkspace()
        let monitor = try MonitorProcess(database: workspace.database, interval: 0.05, in: workspace)
        let missing = try monitor.get("/healthz")
        #expect(missing.status == 503 && missing.body.contains("no such file"), "\(missing)")

        try workspace.write("kb.sqlite", String(repeating: "not a database ", count: 500))
        #expect(poll(timeout: 10) { (try? monitor.get("/healthz").body.contains("not a database")) == true })
        #expect(try monitor.get("/healthz").status == 503)
        #expect((try monitor.get("/metrics").body).contains("factpipe_up 0"))

        let input = try facts(300, "small.ndjson", in: workspace)
        let fresh = workspace.path("fresh.sqlite")
        #expect(try Factpipe.run(["import", input, "--db", fresh]).status == 0)
        try FileManager.default.removeItem(atPath: workspace.database)
        try FileManager.default.moveItem(atPath: fresh, toPath: workspace.database)
        #expect(poll(timeout: 10) { (try? monitor.get("/healthz").status) == 200 }, "\(monitor.log)")
        #expect(monitor.log.contains("cannot read the database") && monitor.log.contains("can be read again"))
    }

    @Test func refusesABadListenAddressOrInterval() throws {
        for arguments in [["--listen", "nonsense"], ["--listen", "127.0.0.1:70000"], ["--interval", "0"]] {
            let run = try Factpipe.run(["monitor", "--db", "kb.sqlite"] + arguments)
            #expect(run.status == 64, "\(arguments): \(run.stderr)")
        }
        let workspace = try CLIWorkspace()
        let first = try MonitorProcess(database: workspace.database, in: workspace)
        let taken = try Factpipe.run(["monitor", "--db", workspace.database, "--listen", "127.0.0.1:\(first.port)"])
        #expect(taken.status == 1)
        // The system's reason, not NIO's call with a stray parenthesis ("bind(descriptor:ptr:bytes:): … in use)").
        #expect(taken.stderr.contains("cannot listen on 127.0.0.1:\(first.port): Address already in use (errno 98)")
            && !taken.stderr.contains("bind("), "\(taken.stderr)")
    }
}

/// The size of the file at `path`, or nil when there is none.
private func fileSize(_ path: String) -> Int? {
    (try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int
}

/// The integer value of `name="…"` in the first tag of `html` that follows `marker`.
private func attribute(_ name: String, in html: String, after marker: String) -> Int? {
    guard let start = html.range(of: marker) else { return nil }
    let rest = html[start.lowerBound...]
    guard let tagEnd = rest.firstIndex(of: ">"), let found = rest[..<tagEnd].range(of: "\(name)=\"") else {
        return nil
    }
    return Int(rest[found.upperBound...].prefix { $0.isNumber })
}
