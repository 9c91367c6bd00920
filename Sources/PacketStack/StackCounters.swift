/// Packet counters. Every packet given to `receive` is counted in `packetsIn` and then in
/// exactly one of `accepted` or an inbound drop reason, so
/// `packetsIn == accepted + inboundDropped` always holds.
public struct StackCounters: Sendable, Equatable {
    public var packetsIn = 0
    public var bytesIn = 0
    public var packetsOut = 0
    public var bytesOut = 0
    public var accepted = 0

    // Inbound drops.
    public var malformed = 0           // bad IP/TCP/UDP/ICMP header or lengths
    public var badChecksum = 0
    public var notForMachine = 0       // destination is not the machine address
    public var fragment = 0            // IP fragments are not reassembled
    public var unsupportedProtocol = 0 // not TCP/UDP/ICMP, or an ICMP type other than echo request
    public var flowTableFull = 0       // new flow refused: maxFlows reached
    public var halfOpenLimit = 0       // SYN refused: maxHalfOpen reached
    public var outOfWindow = 0         // TCP segment outside the receive window (answered with an ACK)
    public var noFlow = 0              // TCP segment for no flow (answered with RST unless it was one)
    public var ignored = 0             // valid but meaningless in the flow's state (e.g. no ACK bit, RST not exactly in sequence)

    // Outbound drops.
    public var outputQueueFull = 0     // a UDP reply or ICMP answer not queued: output queue over its limit
    public var oversize = 0            // a UDP reply larger than the MTU

    public init() {}

    public var inboundDropped: Int {
        malformed + badChecksum + notForMachine + fragment + unsupportedProtocol + flowTableFull + halfOpenLimit
            + outOfWindow + noFlow + ignored
    }

    public var dropped: Int { inboundDropped + outputQueueFull + oversize }
}

extension StackCounters: CustomStringConvertible {
    /// One line for the sharer's log: totals, then each drop reason that happened.
    public var description: String {
        let reasons: [(String, Int)] = [
            ("malformed", malformed), ("bad checksum", badChecksum), ("not for the machine", notForMachine),
            ("fragment", fragment), ("unsupported protocol", unsupportedProtocol), ("flow table full", flowTableFull),
            ("half-open limit", halfOpenLimit), ("out of window", outOfWindow), ("no flow", noFlow),
            ("ignored", ignored), ("output queue full", outputQueueFull), ("oversize", oversize),
        ]
        let drops = reasons.filter { $0.1 > 0 }.map { "\($0.0) \($0.1)" }
        return "\(packetsIn) packets in, \(packetsOut) out, \(dropped) dropped"
            + (drops.isEmpty ? "" : " (" + drops.joined(separator: ", ") + ")")
    }
}
