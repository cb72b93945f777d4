import FactPipe
import NIOCore
import NIOHTTP1

/// Answers the monitor's four routes; every other path is 404 and every method but GET and HEAD
/// is 405. No route reads a file, and request bodies are discarded as they arrive.
///
/// A client may send many requests without reading the answers (pipelining). An answer is written only
/// while the connection is writable, and the next request comes only after it (`HTTPServerPipelineHandler`),
/// while `BackPressureHandler` stops reading the socket: such a client holds one answer beyond the
/// write buffer's high watermark and the requests decoded from the last read of its socket (at most one
/// read's worth), not an answer for each of its requests.
///
/// ```
/// GET /         the page (self-contained HTML)
/// GET /metrics  Prometheus text exposition
/// GET /events   Server-Sent Events: the history once, then one event an interval
/// GET /healthz  200 "ok", or 503 with the reason the database cannot be read
/// ```
final class MonitorHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let monitor: DatabaseMonitor
    private let registry: ClientRegistry
    private var request: HTTPRequestHead?
    /// Set once the connection streams `/events`: it takes no more requests and is never idle.
    private var isStreaming = false
    /// A request that arrived while the connection could take no more output: answered once it can.
    private var waiting: HTTPRequestHead?
    /// How long the next request may take to arrive whole (`MonitorServerConfiguration.requestTimeout`).
    private let requestTimeout: TimeAmount
    /// Closes the connection when the next request is not whole in time.
    private var deadline: Scheduled<Void>?

    init(monitor: DatabaseMonitor, registry: ClientRegistry, requestTimeout: TimeAmount) {
        self.monitor = monitor
        self.registry = registry
        self.requestTimeout = requestTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { armDeadline(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        armDeadline(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }

    /// Gives the next request `requestTimeout` to arrive whole, from now.
    private func armDeadline(_ context: ChannelHandlerContext) {
        deadline?.cancel()
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: requestTimeout) { channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
        case .body:
            break
        case .end:
            guard let head = request, !isStreaming else { return }
            request = nil
            armDeadline(context)
            if context.channel.isWritable {
                respond(to: head, context: context)
            } else {
                waiting = head
            }
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, let head = waiting {
            waiting = nil
            respond(to: head, context: context)
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent, !isStreaming {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard head.method == .GET || head.method == .HEAD else {
            send(
                .methodNotAllowed, "text/plain; charset=utf-8", "only GET and HEAD\n", head, context,
                extra: [
                    ("Allow", "GET, HEAD")
                ])
            return
        }
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        switch path {
        case "/":
            send(.ok, "text/html; charset=utf-8", MonitorPage.html, head, context)
        case "/metrics":
            let text = monitor.figures.prometheusText(server: registry.counts)
            send(.ok, "text/plain; version=0.0.4; charset=utf-8", text, head, context)
        case "/healthz":
            if let problem = monitor.healthProblem {
                send(.serviceUnavailable, "text/plain; charset=utf-8", problem + "\n", head, context)
            } else {
                send(.ok, "text/plain; charset=utf-8", "ok\n", head, context)
            }
        case "/events":
            startStream(head, context)
        default:
            send(
                .notFound, "text/plain; charset=utf-8", "not found; try /, /metrics, /events or /healthz\n", head,
                context)
        }
    }

    private func send(
        _ status: HTTPResponseStatus, _ contentType: String, _ body: String, _ request: HTTPRequestHead,
        _ context: ChannelHandlerContext, extra: [(String, String)] = []
    ) {
        var headers = HTTPHeaders([("Content-Type", contentType), ("Cache-Control", "no-store")] + extra)
        let buffer = context.channel.allocator.buffer(string: body)
        headers.add(name: "Content-Length", value: String(buffer.readableBytes))
        if !request.isKeepAlive { headers.add(name: "Connection", value: "close") }
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))),
            promise: nil)
        if request.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil) }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !request.isKeepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    private func startStream(_ request: HTTPRequestHead, _ context: ChannelHandlerContext) {
        let headers = HTTPHeaders([
            ("Content-Type", "text/event-stream; charset=utf-8"), ("Cache-Control", "no-store"),
            ("X-Accel-Buffering", "no"),
        ])
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: .ok, headers: headers))),
            promise: nil)
        guard request.method == .GET else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return
        }
        isStreaming = true
        deadline?.cancel()
        deadline = nil
        let history = "retry: 2000\nevent: history\ndata: \(monitor.figures.historyJSON())\n\n"
        context.writeAndFlush(
            wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: history)))),
            promise: nil)
        registry.addStream(context.channel)
    }
}
