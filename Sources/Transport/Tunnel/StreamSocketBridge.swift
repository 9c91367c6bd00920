import Wire

/// Joins one tunnel stream to one TCP socket: a `SocketEndpoint` and a `TunnelStreamEndpoint`
/// joined by a `Pump` (backpressure both ways, half-close, resets with codes), plus the few knobs
/// the roles set (what to call the socket in errors, the dial's outcome, the end).
/// Confined to the tunnel's loop.
public final class StreamSocketBridge {
    public let stream: UInt32
    private let socketEnd: SocketEndpoint
    private let pump: Pump
    /// Called once, with a description when the target could not be reached.
    public var onConnectResult: ((String?) -> Void)? {
        get { socketEnd.onConnectResult }
        set { socketEnd.onConnectResult = newValue }
    }
    /// Called once when the stream and the socket are done (cleanly or not).
    public var onClose: (() -> Void)?
    public var targetDescription: String {
        get { socketEnd.description }
        set { socketEnd.description = newValue }
    }

    public init(tunnel: TunnelStreams, stream: UInt32, socket: Socket, connecting: Bool, connectTimeout: Double = SocketEndpoint.defaultConnectTimeout) {
        self.stream = stream
        socketEnd = SocketEndpoint(socket: socket, loop: tunnel.loop, connecting: connecting,
                                   connectTimeout: connectTimeout, description: "the target")
        pump = Pump(socketEnd, TunnelStreamEndpoint(tunnel: tunnel, stream: stream))
    }

    /// Queues bytes that were read from the socket before the bridge took it over.
    public func sendFirst(_ bytes: [UInt8]) { socketEnd.deliverFirst(bytes) }

    /// Starts moving bytes. The endpoints (held by the loop and the tunnel) keep the bridge's pump
    /// alive; the bridge object itself may be dropped.
    public func start() throws(SystemError) {
        pump.onEnd = { [self] _ in
            onClose?()
            onClose = nil
        }
        try pump.start()
    }
}
