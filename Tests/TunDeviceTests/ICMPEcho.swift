import Wire

/// A hand-built IPv4 ICMP echo packet, so the tests need no packet library.
struct ICMPEcho {
    var source: IPv4Address
    var destination: IPv4Address
    var type: UInt8
    var identifier: UInt16
    var sequence: UInt16
    var payload: [UInt8]

    static func packet(from source: IPv4Address, to destination: IPv4Address, type: UInt8,
                       identifier: UInt16, sequence: UInt16, payload: [UInt8]) -> [UInt8] {
        var icmp: [UInt8] = [type, 0, 0, 0, UInt8(identifier >> 8), UInt8(identifier & 0xFF),
                             UInt8(sequence >> 8), UInt8(sequence & 0xFF)] + payload
        let c = checksum(icmp)
        icmp[2] = UInt8(c >> 8); icmp[3] = UInt8(c & 0xFF)
        let total = 20 + icmp.count
        var ip: [UInt8] = [0x45, 0, UInt8(total >> 8), UInt8(total & 0xFF), 0, 1, 0x40, 0, 64, 1, 0, 0]
        for a in [source, destination] { let b = a.bytes; ip += [b.0, b.1, b.2, b.3] }
        let h = checksum(ip)
        ip[10] = UInt8(h >> 8); ip[11] = UInt8(h & 0xFF)
        return ip + icmp
    }

    /// Parses an IPv4 ICMP echo request or reply; nil for anything else.
    init?(parsing packet: UnsafeRawBufferPointer) {
        let p = Array(packet)
        guard p.count >= 28, p[0] >> 4 == 4, p[9] == 1 else { return nil }
        let headerLength = Int(p[0] & 0x0F) * 4
        guard p.count >= headerLength + 8 else { return nil }
        func address(_ i: Int) -> IPv4Address { IPv4Address(p[i], p[i + 1], p[i + 2], p[i + 3]) }
        let icmp = p[headerLength...]
        guard icmp.first == 0 || icmp.first == 8, ICMPEcho.checksum(Array(icmp)) == 0 else { return nil }
        source = address(12)
        destination = address(16)
        type = icmp[headerLength]
        identifier = UInt16(icmp[headerLength + 4]) << 8 | UInt16(icmp[headerLength + 5])
        sequence = UInt16(icmp[headerLength + 6]) << 8 | UInt16(icmp[headerLength + 7])
        payload = Array(icmp.dropFirst(8))
    }

    static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var i = 0
        while i + 1 < bytes.count { sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1]); i += 2 }
        if i < bytes.count { sum += UInt32(bytes[i]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }
}
