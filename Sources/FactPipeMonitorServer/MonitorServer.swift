import Dispatch
import FactPipe
import NIOCore
import NIOHTTP1
import NIOPosix

/// The monitor's HTTP server: one event loop thread for every connection, and one serial queue
/// that probes the database each interval.
///
/// ```
/// every interval:  probe queue ── DatabaseMonitor.probe() ──▶ event loop ── event ──▶ /events streams
/// per connection:  ConnectionGate ─▶ BackPressureHandler ─▶ IdleStateHandler ─▶ HTTP/1 decoder/encoder
///                  ─▶ MonitorHTTPHandler
/// ```
///
/// A probe that takes longer than the interval delays the next one instead of piling up.
public final class MonitorServer: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let registry: ClientRegistry
    private let ticker: ProbeTicker
    /// The address the server listens on (with the port chosen when 0 was asked for).
    public let boundAddress: ListenAddress

    /// Binds `configuration.address` and starts probing `monitor` every `monitor.interval` seconds.
    /// `log` receives one line per event worth telling an operator.
    /// - Throws: NIO's error when the address cannot be bound (in use, not local, bad name).
    public init(
        monitor: DatabaseMonitor, configuration: MonitorServerConfiguration,
        log: @escaping @Sendable (String) -> Void
    ) throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let eventLoop = group.next()
        let registry = ClientRegistry(eventLoop: eventLoop, configuration: configuration, log: log)
        let watermark = configuration.highWatermark
        let bootstrap = ServerBootstrap(group: group)
            // Out of file descriptors (EMFILE), accept fails at once and the listening socket stays readable:
            // without a pause between tries the loop spun a core and starved the probes. (This bind does not
            // add NIO's handler for it by itself.)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptBackoffHandler())
                }
            }
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.so_sndbuf), value: SocketOptionValue(configuration.socketSendBuffer))
            .childChannelOption(.writeBufferWaterMark, value: .init(low: watermark / 4, high: watermark))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(ConnectionGate(registry: registry))
                    try pipeline.addHandler(BackPressureHandler())
                    try pipeline.addHandler(IdleStateHandler(readTimeout: configuration.idleTimeout))
                    try pipeline.configureHTTPServerPipeline(withErrorHandling: true)
                    try pipeline.addHandler(MonitorHTTPHandler(
                        monitor: monitor, registry: registry, requestTimeout: configuration.requestTimeout))
                }
            }
        let channel: any Channel
        do {
            channel = try bootstrap.bind(host: configuration.address.host, port: configuration.address.port).wait()
        } catch let error as IOError {
            try? group.syncShutdownGracefully()
            // NIO's text names its own call and ends with a stray parenthesis: the system's reason alone.
            throw ListenFailure(reason: String(cString: strerror(error.errnoCode)) + " (errno \(error.errnoCode))")
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
        self.group = group
        self.channel = channel
        self.registry = registry
        boundAddress = ListenAddress(
            host: configuration.address.host, port: channel.localAddress?.port ?? configuration.address.port)
        ticker = ProbeTicker(monitor: monitor, registry: registry, log: log)
        ticker.start()
    }

    /// Stops listening, ends every `/events` stream and stops probing; callable from any thread.
    public func stop() {
        registry.eventLoop.execute { [registry, ticker, channel] in
            ticker.stop()
            registry.closeStreams()
            channel.close(promise: nil)
        }
    }

    /// Blocks until the server stopped listening, then closes every connection and the loop thread.
    /// Not to be called on the event loop.
    public func wait() throws {
        try channel.closeFuture.wait()
        try group.syncShutdownGracefully()
    }
}

/// Runs the probe each interval on its own queue and hands each result to the event loop.
/// Its state lives on the event loop.
private final class ProbeTicker: @unchecked Sendable {
    private let monitor: DatabaseMonitor
    private let registry: ClientRegistry
    private let log: @Sendable (String) -> Void
    private let queue = DispatchQueue(label: "factpipe.monitor.probe")
    private var task: RepeatedTask?
    private var isProbing = false
    private var wasHealthy: Bool?

    init(monitor: DatabaseMonitor, registry: ClientRegistry, log: @escaping @Sendable (String) -> Void) {
        self.monitor = monitor
        self.registry = registry
        self.log = log
    }

    func start() {
        let loop = registry.eventLoop
        let interval = TimeAmount.nanoseconds(Int64(monitor.interval * 1e9))
        loop.execute { [self] in
            self.task = loop.scheduleRepeatedTask(initialDelay: .zero, delay: interval) { [self] _ in self.tick() }
        }
    }

    func stop() {
        registry.eventLoop.preconditionInEventLoop()
        task?.cancel()
        task = nil
    }

    private func tick() {
        guard !isProbing, task != nil else { return }
        isProbing = true
        queue.async { [self] in
            let sample = self.monitor.probe()
            self.registry.eventLoop.execute { self.finish(sample) }
        }
    }

    private func finish(_ sample: MonitorSample) {
        isProbing = false
        guard task != nil else { return }
        if wasHealthy != sample.isHealthy {
            if let failure = sample.failure {
                log("cannot read the database: \(failure)")
            } else if wasHealthy != nil {
                log("the database can be read again")
            }
            wasHealthy = sample.isHealthy
        }
        let json = monitor.figures.eventJSON(server: registry.counts)
        var event = ByteBuffer()
        event.writeString("data: \(json)\n\n")
        registry.broadcast(event)
    }
}

/// Why the server could not listen: the system's reason for the failed bind.
public struct ListenFailure: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}
