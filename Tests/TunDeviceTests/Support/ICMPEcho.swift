import Wire

/// An IPv4 ICMP echo request or reply, built and read with the Wire/IP codecs (so the kernel
/// answering one also checks what the codecs emit).
struct ICMPEcho {
    var source: IPv4Address
    var destination: IPv4Address
    var type: UInt8
    var identifier: UInt16
    var sequence: UInt16
    var payload: [UInt8]

    static func packet(from source: IPv4Address, to destination: IPv4Address, type: UInt8,
                       identifier: UInt16, sequence: UInt16, payload: [UInt8]) -> [UInt8] {
        var packet = [UInt8](repeating: 0, count: 28) + payload
        packet.withUnsafeMutableBytes { p in
            try! ICMPv4Header(type: type, code: 0, rest: UInt32(identifier) << 16 | UInt32(sequence))
                .emit(into: UnsafeMutableRawBufferPointer(rebasing: p[20...]))
            try! IPv4Header(source: source, destination: destination, protocolNumber: IPv4Header.protocolICMP,
                            payloadLength: 8 + payload.count, identification: 1).emit(into: p)
        }
        return packet
    }

    /// Parses an IPv4 ICMP echo request or reply (checksums verified); nil for anything else.
    init?(parsing packet: UnsafeRawBufferPointer) {
        guard let ip = try? IPv4Header.parse(packet), ip.protocolNumber == IPv4Header.protocolICMP else { return nil }
        let message = UnsafeRawBufferPointer(rebasing: packet[ip.payloadRange])
        guard let icmp = try? ICMPv4Header.parse(message),
              icmp.type == ICMPv4Header.echoReply || icmp.type == ICMPv4Header.echoRequest else { return nil }
        source = ip.source
        destination = ip.destination
        type = icmp.type
        identifier = icmp.identifier
        sequence = icmp.sequence
        payload = Array(message[8...])
    }
}
