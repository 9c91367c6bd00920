import Transport

/// Where the web interface listens and how: plain HTTP on loopback (only this host can reach it),
/// HTTPS with the relay's certificate anywhere else, so a token or cookie never crosses a network
/// in clear.
enum AdminServer {
    /// A connection gets this long to send its request and take the answer.
    static let connectionDeadline = 30.0

    static func usesTLS(_ address: SocketAddress) -> Bool { !isLoopback(address) }

    static func isLoopback(_ address: SocketAddress) -> Bool {
        switch address.family {
        case .v4: return address.host.hasPrefix("127.")
        case .v6: return address.host == "::1"
        }
    }

    /// Hands an accepted connection to the next loop, as plain HTTP or HTTPS.
    static func accept(socket: Socket, peer: SocketAddress?, relay: RelayServer, app: AdminApp) {
        let loop = relay.group.next()
        if app.secure {
            let context = relay.tlsContext
            loop.execute { AdminTLSConnection.accept(socket: socket, peer: peer, app: app, context: context, loop: loop) }
        } else {
            loop.execute { AdminPlainConnection.accept(socket: socket, peer: peer, app: app, loop: loop) }
        }
    }
}
