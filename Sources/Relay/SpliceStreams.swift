import Transport
import Wire

/// Joins a stream on one tunnel to a stream on another (a connect client's SOCKS CONNECT to the
/// share agent's dial): two `TunnelStreamEndpoint`s and a `Pump`. Each side's credit flow control
/// stays intact: bytes from one side are acknowledged only once the other side's tunnel took them,
/// so the relay holds at most one window per direction; `connected`, FIN and resets pass across.
/// Both tunnels live on the same loop (the share's).
///
/// `client` is the stream the connect client opened; `agent` the one the relay opened to the agent.
func spliceStreams(client: (TunnelStreams, UInt32), agent: (TunnelStreams, UInt32)) {
    let pump = Pump(TunnelStreamEndpoint(tunnel: client.0, stream: client.1),
                    TunnelStreamEndpoint(tunnel: agent.0, stream: agent.1))
    // Attaching a tunnel stream cannot fail; the tunnels' handler tables keep the pump alive.
    try? pump.start()
}
