import Wire

/// Where an agent's relay is — its address, the name its certificate must carry — and the TLS
/// client context that verifies it. Every agent (share, connect, the SSH helpers) dials the relay
/// through this one path, so address parsing, certificate checking and the tunnel's setup agree.
public struct RelayEndpoint {
    /// As the user gave it (`HOST:PORT`), for messages.
    public let text: String
    public let host: String
    public let address: SocketAddress
    public let tls: TLSContext

    public enum Failure: Error, CustomStringConvertible {
        case address(String)
        case tls(TLSError)

        public var description: String {
            switch self {
            case .address(let why): return "bad --relay: \(why)"
            case .tls(let error): return "cannot set up TLS: \(error). Check --relay-ca."
            }
        }
    }

    /// `caPath` nil: the system trust store.
    public init(_ relay: String, caPath: String?) throws(Failure) {
        text = relay
        do {
            let (host, port) = try SocketAddress.split(relay)
            guard let portNumber = UInt16(port) else { throw AddressError.invalid(relay, "expected HOST:PORT") }
            self.host = host
            address = try SocketAddress(host: host, port: portNumber)
        } catch {
            throw .address("\(error)")
        }
        do {
            tls = try TLSContext.client(caPath: caPath)
        } catch {
            throw .tls(error)
        }
    }

    /// Starts a non-blocking dial on `loop`; `delegate` hears `tunnelDidConnect` once TLS is up
    /// (the relay's certificate verified for `host`), or `tunnelDidClose` with the reason.
    public func dial(on loop: EventLoop, mux: MuxConfig, delegate: TunnelConnectionDelegate) throws -> TunnelConnection {
        let socket = try Socket.connect(to: address)
        let connection = try TLSConnection(socket: socket, context: tls, loop: loop, peerName: host,
                                           peerAddress: address, connecting: true)
        let tunnel = TunnelConnection(tls: connection, role: .dialer, config: mux)
        tunnel.delegate = delegate
        try tunnel.start()
        return tunnel
    }
}
