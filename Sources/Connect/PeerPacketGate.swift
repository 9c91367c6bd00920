import Transport
import Wire

/// The one `PeerPacketFilter` of a connect session, shared by what sends packets toward the share
/// (`TunPump`, SOCKS UDP associations: `noteOutbound`) and the receive path that checks what comes
/// back (`admitsInbound`). A class so those owners see the same flows; the event loop's thread
/// is its only user.
final class PeerPacketGate {
    private(set) var filter: PeerPacketFilter

    /// This host's addresses toward the machine: the TUN's local address when there is an
    /// interface, and always the source address SOCKS UDP associations send from.
    init(machine: IPv4Address, tunAddress: IPv4Address?, maxFlows: Int = PeerPacketFilter.defaultMaxFlows) {
        filter = PeerPacketFilter(machine: machine, localAddresses: (tunAddress.map { [$0] } ?? []) + [SOCKS5Server.udpSourceAddress],
                                  maxFlows: maxFlows)
    }

    func noteOutbound(_ packet: UnsafeRawBufferPointer, now: Double = MonotonicClock.now()) {
        filter.noteOutbound(packet, now: now)
    }

    func admitsInbound(_ packet: UnsafeRawBufferPointer, now: Double = MonotonicClock.now()) -> Bool {
        filter.admitsInbound(packet, now: now)
    }

    var dropped: Int { filter.dropped }
    /// The exit line's text (meaningful when `dropped > 0`).
    var summary: String { filter.summary }
}
