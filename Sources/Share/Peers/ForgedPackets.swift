import Glibc
import Transport
import Wire

/// A stand-in for a *modified* (malicious) share agent, for the integration test that proves a
/// connect peer drops what it did not ask for. Only when the environment names a port
/// (`VSHARE_TEST_FORGE_TO=PORT`, one the peer's host listens on), the first packet of each peer
/// session tells the agent the peer's own address, and from then on, twice a second for five
/// seconds, it sends packets no honest agent sends: a TCP SYN from the machine IP to that port of
/// the peer (a connection the peer never opened), a SYN from another source, and a UDP datagram from
/// the machine IP to that port. The peer must let none of these through.
enum ForgedPackets {
    static let environmentKey = "VSHARE_TEST_FORGE_TO"

    /// The port to forge packets to, when the test asks for it.
    static var port: UInt16? { getenv(environmentKey).flatMap { UInt16(String(cString: $0)) } }

    /// `firstPacket` is the peer's first packet: its source is the peer's address, its destination
    /// the machine IP.
    static func start(on tunnel: TunnelConnection, firstPacket: UnsafeRawBufferPointer, port: UInt16) {
        guard let header = try? IPv4Header.parse(firstPacket, verifyChecksum: false) else { return }
        let victim = header.source, machine = header.destination
        let stranger = IPv4Address(10, 201, 9, 9)
        var packets: [[UInt8]] = []
        for source in [machine, stranger] {
            packets.append(tcpSYN(from: source, to: victim, port: port))
        }
        packets.append(udp(from: machine, to: victim, port: port))
        for round in 0..<10 {
            tunnel.loop.schedule(after: 0.5 * Double(round)) { [weak tunnel] in
                guard let tunnel, tunnel.isOpen else { return }
                for packet in packets { packet.withUnsafeBytes { _ = tunnel.sendDatagram(channel: 0, $0) } }
            }
        }
    }

    private static func tcpSYN(from source: IPv4Address, to destination: IPv4Address, port: UInt16) -> [UInt8] {
        let tcp = TCPHeader(sourcePort: 80, destinationPort: port, sequenceNumber: 1000, acknowledgmentNumber: 0,
                            flags: .syn, window: 65535)
        var packet = [UInt8](repeating: 0, count: 20 + tcp.headerLength)
        packet.withUnsafeMutableBytes { buffer in
            let ip = IPv4Header(source: source, destination: destination, protocolNumber: IPv4Header.protocolTCP,
                                payloadLength: tcp.headerLength)
            _ = try? ip.emit(into: buffer)
            _ = try? tcp.emit(into: UnsafeMutableRawBufferPointer(rebasing: buffer[20...]), source: source, destination: destination)
        }
        return packet
    }

    private static func udp(from source: IPv4Address, to destination: IPv4Address, port: UInt16) -> [UInt8] {
        let payload = Array("forged".utf8)
        var packet = [UInt8](repeating: 0, count: UDPPacket.headerLength + payload.count)
        packet.replaceSubrange(UDPPacket.headerLength..., with: payload)
        packet.withUnsafeMutableBytes { buffer in
            _ = try? UDPPacket.emit(into: buffer, source: source, sourcePort: 53, destination: destination,
                                    destinationPort: port, payloadLength: payload.count)
        }
        return packet
    }
}
