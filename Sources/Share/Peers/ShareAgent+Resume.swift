import Console
import Glibc
import Identity
import PacketStack
import Transport
import Wire

/// Sessions that outlive a dropped link: when a peer's end-to-end connection breaks, its packet
/// session (stack, flows, sockets to the machine) is detached and kept under the session's resume
/// ID for `resumeWindow` seconds. A peer that pairs again — proving the code again, in a new TLS
/// session — and names that ID in its HELLO gets the same stack, so its TCP connections through
/// the machine IP carry on (the inner TCP retransmits what the gap lost). Streams (SOCKS) do not
/// resume: they were the old tunnel's.
extension ShareAgent {
    /// A packet session waiting for its peer.
    struct DetachedPeer {
        let packets: PacketSession
        let session: UInt32
    }

    /// How long a detached session waits: 30 s, or `VSHARE_TEST_RESUME_WINDOW` seconds (tests).
    static var resumeWindow: Double {
        getenv("VSHARE_TEST_RESUME_WINDOW").flatMap { Double(String(cString: $0)) } ?? 30
    }

    /// A new random resume ID (32 bytes from the CSPRNG, hex).
    static func newResumeID() -> String { Hex.encode(SecretToken.randomBytes(32)) }

    /// The packet session a rejoining peer names, if it waits and gives the machine the same IP;
    /// it is no longer detached (an ID works once).
    func resumePackets(id: String?, machine: IPv4Address) -> DetachedPeer? {
        guard let id, let peer = detached.take(id: id, now: MonotonicClock.now()) else { return nil }
        guard peer.packets.stack.config.machineAddress == machine else {
            peer.packets.close()   // a peer that changed its machine IP cannot use the old flows
            return nil
        }
        return peer
    }

    /// The link of a peer with packets broke: keep them for the window.
    func detach(_ packets: PacketSession, session: UInt32, resumeID: String) {
        packets.attach(nil)
        if let evicted = detached.keep(DetachedPeer(packets: packets, session: session), id: resumeID,
                                       now: MonotonicClock.now()) {
            evicted.packets.close()
        }
        loop.schedule(after: detached.window) { [weak self] in self?.expireDetached() }
    }

    private func expireDetached() {
        for peer in detached.expire(now: MonotonicClock.now()) {
            peer.packets.close()
            Console.detail(config.machineName, "The peer of session \(peer.session) did not come back within \(DurationSyntax.format(seconds: max(1, Int(detached.window)))); its connections through the machine IP are closed.")
        }
    }

    /// The packet counters of every packet session open now, attached or detached (for metrics).
    func livePacketCounters() -> [StackCounters] {
        // A closed session's counters are already in the metrics' totals.
        (peers.values.compactMap(\.packets) + detached.values.map(\.packets)).filter { !$0.closed }.map(\.stack.counters)
    }

    func closeDetached() {
        for peer in detached.removeAll() { peer.packets.close() }
    }
}
