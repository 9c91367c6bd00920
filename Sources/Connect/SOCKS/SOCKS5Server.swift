import PacketCapture
import Transport
import Wire

/// The SOCKS5 proxy of `vshare connect` (RFC 1928, no authentication), on loopback by default.
/// It reaches the shared machine only: CONNECT and UDP ASSOCIATE to the machine IP or to the
/// share's name; anything else is refused with reply 0x02 — never an open proxy. CONNECT rides a
/// tunnel stream (no TCP inside TCP); UDP rides the session's packets (`SOCKSUDPAssociation`).
final class SOCKS5Server {
    let address: SocketAddress
    let shareName: String
    let machineAddress: IPv4Address
    let loop: EventLoop
    /// `--pcap`: the packets UDP associations send (what comes back is captured by the client).
    let capture: PacketCaptureFile?
    /// Told of every packet UDP associations send, so that what comes back can be checked.
    let gate: PeerPacketGate?
    private let listener: Listener
    private(set) weak var tunnel: (any TunnelStreams & TunnelDatagrams)?
    private var associations: [UInt16: SOCKSUDPAssociation] = [:]
    private var nextAssociationPort: UInt16 = 1024

    /// SOCKS UDP datagrams enter the share's packet stack as IPv4/UDP packets from this address,
    /// one source port per association. It is from 198.18.0.0/15 (RFC 2544, benchmarking), never
    /// a real peer, so replies to it are told apart from the TUN's traffic without a lookup table.
    static let udpSourceAddress = IPv4Address(198, 18, 0, 1)

    init(address: SocketAddress, loop: EventLoop, shareName: String, machineAddress: IPv4Address,
         capture: PacketCaptureFile?, gate: PeerPacketGate? = nil) throws(SystemError) {
        self.loop = loop
        self.capture = capture
        self.gate = gate
        self.shareName = shareName
        self.machineAddress = machineAddress
        var accept: ((Socket, SocketAddress?) -> Void)?
        listener = try Listener(address: address, loop: loop) { socket, peer in accept?(socket, peer) }
        try listener.start()
        self.address = listener.address
        accept = { [weak self] socket, peer in
            guard let self else { return }
            SOCKS5Connection(socket: socket, client: peer, server: self).start()
        }
    }

    func attach(_ tunnel: (any TunnelStreams & TunnelDatagrams)?) { self.tunnel = tunnel }

    /// Whether a SOCKS client may reach `destination`: the machine, by IP or by the share's name.
    func allows(_ destination: SOCKS5Address) -> Bool {
        switch destination {
        case .ipv4(let ip): return ip == machineAddress
        case .domain(let name):
            var host = name.lowercased()
            if host.hasSuffix(".") { host.removeLast() }
            return host == shareName || host == machineAddress.description
        case .ipv6: return false
        }
    }

    // MARK: UDP associations

    func register(_ association: SOCKSUDPAssociation) -> UInt16? {
        guard associations.count < 4096 else { return nil }
        repeat {
            nextAssociationPort = nextAssociationPort == UInt16.max ? 1024 : nextAssociationPort + 1
        } while associations[nextAssociationPort] != nil
        associations[nextAssociationPort] = association
        return nextAssociationPort
    }

    func unregister(port: UInt16) { associations[port] = nil }

    /// Takes a packet from the share if it is addressed to the SOCKS UDP source address: a reply
    /// for an association is delivered, anything else for that address (an ICMP error, a reply
    /// to a closed association) is dropped here rather than written to the TUN.
    func claims(_ packet: UnsafeRawBufferPointer) -> Bool {
        guard let ip = try? IPv4Header.parse(packet), ip.destination == Self.udpSourceAddress else { return false }
        if let udp = UDPPacket.parse(packet, ip: ip), let association = associations[udp.destinationPort] {
            association.deliver(fromPort: udp.sourcePort, payload: UnsafeRawBufferPointer(rebasing: packet[udp.payload]))
        }
        return true
    }

    func close() {
        listener.stop()
        for association in associations.values { association.close() }
        associations.removeAll()
    }
}
