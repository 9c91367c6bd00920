import Glibc
import Transport
import Wire

/// A stand-in for a *modified* (malicious) share agent, for the integration test that proves a
/// connect peer drops what it did not ask for. Only when the environment names a victim
/// (`VSHARE_TEST_FORGE_TO=A.B.C.D:PORT`, the peer's own TUN address and a port it listens on), each
/// new peer session is sent, twice a second for five seconds, packets no honest agent sends: a TCP
/// SYN from the machine IP to that port (a connection the peer never opened), a SYN from another
/// source, and a UDP datagram from the machine IP to that port. An honest agent has no reason to
/// set the variable; the peer must never let any of these through.
enum ForgedPackets {
    static let environmentKey = "VSHARE_TEST_FORGE_TO"

    static func victim() -> (IPv4Address, UInt16)? {
        guard let text = getenv(environmentKey).map({ String(cString: $0) }) else { return nil }
        let parts = text.split(separator: ":")
        guard parts.count == 2, let address = IPv4Address(String(parts[0])), let port = UInt16(parts[1]) else { return nil }
        return (address, port)
    }

    static func start(on tunnel: TunnelConnection, machine: IPv4Address) {
        guard let (victim, port) = victim() else { return }
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
