import Wire

/// What the connect side lets in from the session: the relay and the sharer are not trusted toward
/// this host, so a packet from the share is admitted only if it answers something this host sent.
/// Pure and I/O-free (packets and times in, a verdict out); `PeerPacketGate` shares one between
/// the paths that send and the one that receives.
///
/// Admitted: well-formed IPv4 from the machine IP to one of `localAddresses` (the TUN's address,
/// the SOCKS UDP source address) that is
/// - TCP of a flow this host opened with a SYN (a bare SYN is never admitted: the share cannot
///   open connections to this host's services);
/// - UDP from a flow's remote port to its local port;
/// - an ICMP echo reply for an identifier this host sent a request with;
/// - an ICMP destination unreachable quoting a TCP or UDP packet of a known flow (how "connection
///   refused" for UDP and path MTU discovery reach local programs).
/// Everything else is dropped and counted by `DropReason`. Fragments are dropped: the share's
/// stack sends whole packets within the MTU, and a fragment after the first carries no ports to
/// match a flow with.
///
/// Outbound packets open and refresh flows (`noteOutbound`); `PeerFlowTable` bounds them and
/// forgets idle ones. Inbound packets are checked with the Wire/IP codecs, checksums included
/// (the share is the untrusted side); IPv4 options are the one case where parsing allocates.
public struct PeerPacketFilter {
    public enum DropReason: Int, CaseIterable, Sendable {
        /// Not IPv4, truncated, a bad length or checksum, a bad TCP option.
        case malformed
        case notFromMachine
        case notForThisHost
        case fragment
        /// A TCP SYN without ACK: the share opening a connection to this host.
        case connectionAttempt
        /// TCP, UDP, an echo reply or an ICMP error for no flow this host opened.
        case unsolicited
        /// Another protocol, or an ICMP type other than echo reply and destination unreachable.
        case unsupported

        var phrase: String {
            switch self {
            case .malformed: return "malformed"
            case .notFromMachine: return "not from the machine IP"
            case .notForThisHost: return "not addressed to this host"
            case .fragment: return "IP fragments"
            case .connectionAttempt: return "connection attempts to this host"
            case .unsolicited: return "for flows this host did not open"
            case .unsupported: return "of a protocol or ICMP type the share never sends"
            }
        }
    }

    public static let defaultMaxFlows = 16384

    private enum Kind: UInt8 {
        case tcp = 1, udp, icmpEcho
    }

    public let machine: IPv4Address
    public let localAddresses: [IPv4Address]
    private var flows: PeerFlowTable
    private var drops: [Int]
    public private(set) var dropped = 0

    public init(machine: IPv4Address, localAddresses: [IPv4Address], maxFlows: Int = defaultMaxFlows) {
        precondition(localAddresses.count < 256, "a flow key has 8 bits for the local address")
        self.machine = machine
        self.localAddresses = localAddresses
        flows = PeerFlowTable(capacity: maxFlows)
        drops = Array(repeating: 0, count: DropReason.allCases.count)
    }

    /// Flows currently remembered.
    public var flowCount: Int { flows.count }
    /// Flows forgotten early because the table was full.
    public var evictedFlows: Int { flows.evicted }

    public func dropped(_ reason: DropReason) -> Int { drops[reason.rawValue] }

    /// For the exit line: "12 packets from the share were dropped: 10 not from the machine IP, 2 for
    /// flows this host did not open."
    public var summary: String {
        guard dropped > 0 else { return "No packets from the share were dropped." }
        let reasons = DropReason.allCases.filter { drops[$0.rawValue] > 0 }.map { "\(drops[$0.rawValue]) \($0.phrase)" }
        let what = dropped == 1 ? "1 packet from the share was dropped" : "\(dropped) packets from the share were dropped"
        return "\(what): \(reasons.joined(separator: ", "))."
    }

    // MARK: Outbound

    /// A packet this host sends toward the share (from the TUN or SOCKS UDP): a TCP SYN without
    /// ACK opens a TCP flow, UDP opens or refreshes a UDP flow, an echo request opens an echo
    /// flow; other TCP of a known flow refreshes it (and a FIN each way or an RST starts its end).
    ///
    /// Only ports and flags are read, checksums unchecked: this host's kernel or the SOCKS path
    /// built the packet, and a wrong one would only open a flow for this host itself.
    public mutating func noteOutbound(_ packet: UnsafeRawBufferPointer, now: Double) {
        flows.expire(now: now)
        guard let ip = try? IPv4Header.parse(packet, verifyChecksum: false), ip.fragmentOffset == 0,
              ip.destination == machine, let local = localIndex(of: ip.source) else { return }
        let body = UnsafeRawBufferPointer(rebasing: packet[ip.payloadRange])
        switch ip.protocolNumber {
        case IPv4Header.protocolTCP where body.count >= 14:
            let key = Self.key(.tcp, local, localPort: body.bigEndianUInt16(at: 0), remotePort: body.bigEndianUInt16(at: 2))
            let flags = TCPFlags(rawValue: body[13])
            if flags.contains(.syn) && !flags.contains(.ack) {
                flows.open(key, as: .tcpOpening, now: now)
            } else if let slot = flows.find(key) {
                flows.touch(slot, as: tcpClass(slot, flags: flags, outbound: true), now: now)
            }
        case IPv4Header.protocolUDP where body.count >= 8:
            flows.open(Self.key(.udp, local, localPort: body.bigEndianUInt16(at: 0), remotePort: body.bigEndianUInt16(at: 2)),
                       as: .udp, now: now)
        case IPv4Header.protocolICMP where body.count >= 8 && body[0] == ICMPv4Header.echoRequest:
            flows.open(Self.key(.icmpEcho, local, localPort: body.bigEndianUInt16(at: 4), remotePort: 0), as: .icmpEcho, now: now)
        default:
            break
        }
    }

    // MARK: Inbound

    /// Whether a packet from the share may reach this host; a refused one is counted.
    public mutating func admitsInbound(_ packet: UnsafeRawBufferPointer, now: Double) -> Bool {
        guard let reason = verdict(packet, now: now) else { return true }
        drops[reason.rawValue] += 1
        dropped += 1
        return false
    }

    /// nil to admit, or why not.
    private mutating func verdict(_ packet: UnsafeRawBufferPointer, now: Double) -> DropReason? {
        flows.expire(now: now)
        guard let ip = try? IPv4Header.parse(packet) else { return .malformed }
        guard ip.source == machine else { return .notFromMachine }
        guard let local = localIndex(of: ip.destination) else { return .notForThisHost }
        guard !ip.isFragment else { return .fragment }
        let body = UnsafeRawBufferPointer(rebasing: packet[ip.payloadRange])
        switch ip.protocolNumber {
        case IPv4Header.protocolTCP:
            guard let (tcp, _) = try? TCPHeader.parse(body, source: ip.source, destination: ip.destination) else { return .malformed }
            if tcp.flags.contains(.syn) && !tcp.flags.contains(.ack) { return .connectionAttempt }
            guard let slot = flows.find(Self.key(.tcp, local, localPort: tcp.destinationPort, remotePort: tcp.sourcePort)) else {
                return .unsolicited
            }
            flows.touch(slot, as: tcpClass(slot, flags: tcp.flags, outbound: false), now: now)
            return nil
        case IPv4Header.protocolUDP:
            guard let udp = try? UDPHeader.parse(body, source: ip.source, destination: ip.destination) else { return .malformed }
            guard let slot = flows.find(Self.key(.udp, local, localPort: udp.destinationPort, remotePort: udp.sourcePort)) else {
                return .unsolicited
            }
            flows.touch(slot, as: .udp, now: now)
            return nil
        case IPv4Header.protocolICMP:
            guard let icmp = try? ICMPv4Header.parse(body) else { return .malformed }
            switch icmp.type {
            case ICMPv4Header.echoReply:
                return flows.find(Self.key(.icmpEcho, local, localPort: icmp.identifier, remotePort: 0)) == nil ? .unsolicited : nil
            case ICMPv4Header.destinationUnreachable:
                return quotesKnownFlow(UnsafeRawBufferPointer(rebasing: body[8...]), to: ip.destination, local: local)
            default:
                return .unsupported
            }
        default:
            return .unsupported
        }
    }

    /// An ICMP error's quoted packet (RFC 792: its IPv4 header and at least 8 bytes after it)
    /// must be one this host sent: from the address the error came to, to the machine, of a known
    /// TCP or UDP flow. The quote is cut short by design, so it is read by hand, not parsed whole.
    private func quotesKnownFlow(_ quote: UnsafeRawBufferPointer, to address: IPv4Address, local: Int) -> DropReason? {
        guard quote.count >= 20, quote[0] >> 4 == 4 else { return .malformed }
        let ihl = Int(quote[0] & 0x0F) * 4
        guard ihl >= 20, quote.count >= ihl + 8 else { return .malformed }
        guard IPv4Address(quote.bigEndianUInt32(at: 12)) == address, IPv4Address(quote.bigEndianUInt32(at: 16)) == machine,
              quote.bigEndianUInt16(at: 6) & 0x1FFF == 0 else { return .unsolicited }
        let kind: Kind
        switch quote[9] {
        case IPv4Header.protocolTCP: kind = .tcp
        case IPv4Header.protocolUDP: kind = .udp
        default: return .unsolicited
        }
        let key = Self.key(kind, local, localPort: quote.bigEndianUInt16(at: ihl), remotePort: quote.bigEndianUInt16(at: ihl + 2))
        return flows.find(key) == nil ? .unsolicited : nil
    }

    // MARK: Helpers

    /// A TCP flow's class after a segment with `flags`: an RST, or the second direction's FIN,
    /// ends it; the share's first answer establishes it.
    private mutating func tcpClass(_ slot: Int32, flags: TCPFlags, outbound: Bool) -> PeerFlowClass {
        if flags.contains(.rst) { return .tcpClosing }
        if flags.contains(.fin) && flows.noteFin(slot, outbound: outbound) { return .tcpClosing }
        let current = flows.flowClass(of: slot)
        return current == .tcpOpening && !outbound ? .tcpEstablished : current
    }

    private func localIndex(of address: IPv4Address) -> Int? {
        localAddresses.firstIndex(of: address)
    }

    private static func key(_ kind: Kind, _ local: Int, localPort: UInt16, remotePort: UInt16) -> PeerFlowTable.Key {
        PeerFlowTable.key(kind: kind.rawValue, localIndex: local, localPort: localPort, remotePort: remotePort)
    }
}
