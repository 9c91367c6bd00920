import Wire
@testable import Share
import XCTest

/// The connect side's kernel as a share's packet session sees it: IPv4 packets built with the
/// Wire codecs, as if they came from the peer, and the session's packets parsed back.
enum PeerPackets {
    static let peer = IPv4Address(10, 99, 0, 1)
    static let machine = IPv4Address(10, 99, 0, 2)

    static func tcp(to destination: IPv4Address = machine, sourcePort: UInt16 = 40000, port: UInt16, seq: UInt32,
                    ack: UInt32 = 0, flags: TCPFlags, payload: [UInt8] = []) -> [UInt8] {
        var header = TCPHeader(sourcePort: sourcePort, destinationPort: port, sequenceNumber: seq,
                               acknowledgmentNumber: ack, flags: flags, window: 65535)
        if flags.contains(.syn) { header.maxSegmentSize = 1460 }
        var packet = [UInt8](repeating: 0, count: 20 + header.headerLength) + payload
        packet.withUnsafeMutableBytes { bytes in
            try! IPv4Header(source: peer, destination: destination, protocolNumber: IPv4Header.protocolTCP,
                            payloadLength: header.headerLength + payload.count).emit(into: bytes)
            try! header.emit(into: UnsafeMutableRawBufferPointer(rebasing: bytes[20...]), source: peer, destination: destination)
        }
        return packet
    }

    static func udp(sourcePort: UInt16 = 5353, port: UInt16, payload: [UInt8]) -> [UInt8] {
        var packet = [UInt8](repeating: 0, count: UDPPacket.headerLength) + payload
        packet.withUnsafeMutableBytes { bytes in
            _ = try! UDPPacket.emit(into: bytes, source: peer, sourcePort: sourcePort, destination: machine,
                                    destinationPort: port, payloadLength: payload.count)
        }
        return packet
    }
}

/// A packet the session sent to the peer, parsed (checksums verified).
struct SessionPacket {
    var ip: IPv4Header
    var tcp: TCPHeader?
    var udp: UDPHeader?
    var payload: [UInt8]

    init?(_ raw: [UInt8]) {
        guard let parsed = raw.withUnsafeBytes({ bytes -> SessionPacket? in
            guard let ip = try? IPv4Header.parse(bytes) else { return nil }
            let body = UnsafeRawBufferPointer(rebasing: bytes[ip.payloadRange])
            switch ip.protocolNumber {
            case IPv4Header.protocolTCP:
                guard let (tcp, offset) = try? TCPHeader.parse(body, source: ip.source, destination: ip.destination) else { return nil }
                return SessionPacket(ip: ip, tcp: tcp, udp: nil, payload: Array(body[offset...]))
            case IPv4Header.protocolUDP:
                guard let udp = try? UDPHeader.parse(body, source: ip.source, destination: ip.destination) else { return nil }
                return SessionPacket(ip: ip, tcp: nil, udp: udp, payload: Array(body[udp.payloadRange]))
            default:
                return SessionPacket(ip: ip, tcp: nil, udp: nil, payload: Array(body))
            }
        }) else { return nil }
        self = parsed
    }

    private init(ip: IPv4Header, tcp: TCPHeader?, udp: UDPHeader?, payload: [UInt8]) {
        self.ip = ip
        self.tcp = tcp
        self.udp = udp
        self.payload = payload
    }
}

extension ConnectScope {
    /// Every port of the target (a share whose target is another host).
    static let everyPort = ConnectScope(config: .testing(.all), targetIsThisHost: false)
    /// Exactly `ports`.
    static func only(_ ports: [UInt16]) -> ConnectScope { ConnectScope(config: .testing(.only(ports)), targetIsThisHost: false) }
}

extension ShareConfig {
    static func testing(_ ports: ConnectPorts) -> ShareConfig {
        var config = ShareConfig(relay: "relay:7443", relayCA: nil, token: nil, target: "127.0.0.1", httpPort: 80,
                                 httpsPort: nil, disableHTTP: false)
        config.connectPorts = ports
        return config
    }
}
