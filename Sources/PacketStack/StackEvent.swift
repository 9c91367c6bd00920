public typealias FlowID = UInt32

/// What the stack asks of its I/O shell, drained with `PacketStack.nextEvent()`.
public enum StackEvent: Equatable, Sendable {
    /// A SYN opened a new flow: dial target:port, then call tcpConnected or tcpRefused.
    case tcpConnect(FlowID, port: UInt16)
    /// Peer bytes wait in the flow's receive buffer: call readTCP.
    case tcpReceived(FlowID)
    /// The peer's FIN arrived and the shell has read all its data: shut down the socket's write side.
    case tcpPeerFinished(FlowID)
    /// Send-buffer room again after writeTCP accepted less than offered, or sendCapacity said 0.
    case tcpWritable(FlowID)
    /// The flow is gone (closed both ways, reset, or given up): close the socket.
    case tcpClosed(FlowID, reset: Bool)
    /// First datagram of a new UDP flow: open a UDP socket connected to target:port.
    case udpFlowOpened(FlowID, port: UInt16)
    /// A datagram from the peer on that flow.
    case udpReceived(FlowID, payload: [UInt8])
    /// Idle timeout: close the UDP socket.
    case udpFlowExpired(FlowID)
}
