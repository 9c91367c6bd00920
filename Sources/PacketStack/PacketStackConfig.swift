import Wire
public struct PacketStackConfig: Sendable {
    /// The only address the stack answers for.
    public var machineAddress: IPv4Address
    /// Largest IP packet the stack emits; the MSS it advertises is `mtu - 40`.
    public var mtu: Int = 65535
    /// TCP + UDP flows per stack (TIME_WAIT entries included; they are reclaimed first).
    public var maxFlows: Int = 4096
    /// TCP flows not yet established (SYN seen, dial pending or SYN-ACK unacknowledged).
    public var maxHalfOpen: Int = 256
    /// Per TCP flow: peer bytes not yet taken by the shell (the advertised window).
    public var receiveBuffer: Int = 4 << 20
    /// Per TCP flow: target bytes not yet acknowledged by the peer.
    public var sendBuffer: Int = 4 << 20
    /// Bytes of packets waiting in transmit(); above it no new data segments are generated.
    public var outputQueueLimit: Int = 2 << 20
    public var udpIdleTimeout: Double = 60
    /// How long a flow closed actively by the target stays in TIME_WAIT (re-ACKs a repeated FIN).
    public var timeWait: Double = 2
    /// Delayed-ACK fallback; pending ACKs normally leave at the next transmit().
    public var delayedAckTimeout: Double = 0.04

    public init(machineAddress: IPv4Address) {
        self.machineAddress = machineAddress
    }

    /// The MTU actually used: 576 ... 65535 (an IPv4 total length is 16 bits).
    var effectiveMTU: Int { min(max(mtu, 576), 65535) }
}
