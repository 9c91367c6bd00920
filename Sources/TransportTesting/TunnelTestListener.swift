import Transport
import Wire

/// A test's stand-in relay port: TLS on 127.0.0.1 (any free port), each accepted connection a
/// listener-role `TunnelConnection` whose events go to `delegate`. It keeps the listener and every
/// tunnel alive until it is released. Confined to the loop it was started on.
public final class TunnelTestListener {
    public private(set) var tunnels: [TunnelConnection] = []
    private var listener: Listener?

    public init() {}

    /// Starts listening; returns the port.
    public func start(tls: TLSContext, config: MuxConfig = MuxConfig(), loop: EventLoop,
                      delegate: TunnelConnectionDelegate) throws -> UInt16 {
        let listener = try Listener(address: try SocketAddress(parsing: "127.0.0.1:0"), loop: loop) { [unowned self] socket, peer in
            guard let connection = try? TLSConnection(socket: socket, context: tls, loop: loop, peerAddress: peer) else { return }
            let tunnel = TunnelConnection(tls: connection, role: .listener, config: config)
            tunnel.delegate = delegate
            self.tunnels.append(tunnel)
            try? tunnel.start()
        }
        try listener.start()
        self.listener = listener
        return listener.address.port
    }
}
