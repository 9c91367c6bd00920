import Wire

/// Packets captured from the real kernel (Linux 6.x, this machine), 2025: in a network namespace
/// created for the purpose (`ip netns add ps-fix-$$`), a TUN device `pstun0` with 10.250.0.1/24
/// was opened by a small Python script (TUNSETIFF, IFF_TUN|IFF_NO_PI) that read what the kernel
/// sent towards 10.250.0.2 straight from the TUN fd (full checksums, no offload) and printed it
/// as hex: a `connect()` to 10.250.0.2:8080 (the SYN), the handshake's ACK after the script
/// answered with a SYN-ACK (ISS 1000, MSS 1460), a 22-byte `send()`, a UDP `sendto()` from
/// port 40000 to 10.250.0.2:5353, and an ICMP echo request from a ping socket. The namespace
/// was deleted afterwards.
public enum KernelPackets {
    public static let machine = IPv4Address(10, 250, 0, 2)
    public static let peer = IPv4Address(10, 250, 0, 1)

    public static let syn = hex("4500003cba63400040066a620afa00010afa0002c5d01f901b0f908500000000a002faf0a8ca0000020405b40402080a8a7872dd000000000103030a")
    public static let ack = hex("45000028ba64400040066a750afa00010afa0002c5d01f901b0f9086000003e95010faf00a0e0000")
    public static let data = hex("4500003eba65400040066a5e0afa00010afa0002c5d01f901b0f9086000003e95018faf006f7000068656c6c6f2066726f6d20746865206b65726e656c0a")
    public static let udp = hex("450000281bf04000401108df0afa00010afa00029c4014e9001495d0756470207061796c6f616421")
    public static let icmpEcho = hex("4500003399f2400040018ae10afa00010afa0002080081330432000770696e672d7061796c6f61642d30313233343536373839")

    private static func hex(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        var it = s.utf8.makeIterator()
        func nibble(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : (c | 0x20) - 87 }
        while let a = it.next(), let b = it.next() { out.append(nibble(a) << 4 | nibble(b)) }
        return out
    }
}
