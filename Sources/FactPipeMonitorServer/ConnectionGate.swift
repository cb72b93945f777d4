import NIOCore

/// The first handler of every connection: counts it in, or, when the server has its most
/// connections, answers `503 Service Unavailable` without reading the request.
///
/// A refused connection is closed for writing once the answer is out, and closed altogether when the
/// client closes or after `refusedLinger`: closing it at once while the client's request is still
/// unread would reset it, and the client might lose the answer.
final class ConnectionGate: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private static let refusal = """
        HTTP/1.1 503 Service Unavailable\r
        Content-Type: text/plain; charset=utf-8\r
        Content-Length: 17\r
        Connection: close\r
        \r
        too many clients\n
        """

    /// How long a refused connection may stay half-closed.
    static let refusedLinger = TimeAmount.seconds(2)

    private let registry: ClientRegistry
    private var isAdmitted = false

    init(registry: ClientRegistry) {
        self.registry = registry
    }

    func channelActive(context: ChannelHandlerContext) {
        guard registry.admitConnection() else {
            let buffer = context.channel.allocator.buffer(string: Self.refusal)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in
                channel.close(mode: .output, promise: nil)
            }
            channel.eventLoop.scheduleTask(in: Self.refusedLinger) { channel.close(promise: nil) }
            return
        }
        isAdmitted = true
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard isAdmitted else { return }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if isAdmitted {
            isAdmitted = false
            registry.connectionClosed()
            context.fireChannelInactive()
        }
    }
}
