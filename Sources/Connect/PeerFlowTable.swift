// The flows the connect side opened, for `PeerPacketFilter`: a fixed-size table with idle expiry.
//
// Each flow sits in one of a few classes (TCP opening / established / closing, UDP, ICMP echo),
// and each class has one idle timeout, so a class kept as a list in order of last activity has its
// next flow to expire at the head: expiry pops heads, refreshing moves a flow to its class's tail,
// and a full table evicts the head that would expire first. All O(1); no scan per packet. The
// slots and the index are allocated once, at their maximum size, so nothing allocates per packet.

/// A flow's class: which list it is in, hence its idle timeout.
enum PeerFlowClass: Int, CaseIterable, Sendable {
    /// The host sent a SYN; nothing came back yet.
    case tcpOpening
    /// The share answered (SYN-ACK or anything else) and neither side closed both ways.
    case tcpEstablished
    /// An RST either way, or a FIN each way: a grace for retransmitted FINs and last ACKs.
    case tcpClosing
    case udp
    case icmpEcho

    /// Idle seconds before the flow is forgotten.
    /// - tcpOpening: Linux retries a SYN for 127 s (tcp_syn_retries = 6); each retry refreshes.
    /// - tcpEstablished: 2 h 4 min, RFC 5382 REQ-5's minimum for a NAT, which outlasts the
    ///   2 h before the first TCP keepalive probe.
    /// - tcpClosing: a minute covers retransmitted FINs and last ACKs at ordinary RTOs; a new SYN
    ///   on the same ports opens the flow again anyway.
    /// - udp: 2 min, conntrack's UDP stream timeout (RFC 4787 REQ-5 asks for at least 2 min).
    /// - icmpEcho: 30 s, conntrack's ICMP timeout; ping sends one request a second.
    var idleTimeout: Double {
        switch self {
        case .tcpOpening: return 130
        case .tcpEstablished: return 7440
        case .tcpClosing: return 60
        case .udp: return 120
        case .icmpEcho: return 30
        }
    }
}

struct PeerFlowTable {
    /// A flow's identity: kind (8 bits), index of the local address (8), local port or ICMP
    /// identifier (16), remote port (16; 0 for ICMP). The remote address is always the machine.
    typealias Key = UInt64

    static func key(kind: UInt8, localIndex: Int, localPort: UInt16, remotePort: UInt16) -> Key {
        UInt64(kind) << 40 | UInt64(localIndex) << 32 | UInt64(localPort) << 16 | UInt64(remotePort)
    }

    private struct Slot {
        var key: Key = 0
        var lastSeen = 0.0
        var flowClass = PeerFlowClass.udp
        /// TCP: a FIN seen from this host, from the share.
        var finOut = false
        var finIn = false
        var prev: Int32 = -1
        var next: Int32 = -1
    }

    let capacity: Int
    private var slots: [Slot]
    private var index: [Key: Int32] = [:]
    /// Unused slots, chained through `next`.
    private var free: Int32
    private var heads: [Int32]
    private var tails: [Int32]
    private(set) var evicted = 0

    init(capacity: Int) {
        precondition(capacity > 0 && capacity <= Int(Int32.max), "a flow table holds 1...Int32.max flows")
        self.capacity = capacity
        slots = (0..<capacity).map { Slot(next: $0 + 1 < capacity ? Int32($0 + 1) : -1) }
        free = 0
        index.reserveCapacity(capacity)
        heads = Array(repeating: -1, count: PeerFlowClass.allCases.count)
        tails = heads
    }

    var count: Int { index.count }

    /// Forgets every flow idle past its class's timeout at `now`.
    mutating func expire(now: Double) {
        for flowClass in PeerFlowClass.allCases {
            var head = heads[flowClass.rawValue]
            while head >= 0, now - slots[Int(head)].lastSeen > flowClass.idleTimeout {
                remove(head)
                head = heads[flowClass.rawValue]
            }
        }
    }

    /// The slot of `key`, if the table holds it.
    func find(_ key: Key) -> Int32? { index[key] }

    /// Adds `key` in `flowClass` (or, if present, moves it there with fresh FIN state). When the
    /// table is full, the flow closest to expiring makes room.
    @discardableResult
    mutating func open(_ key: Key, as flowClass: PeerFlowClass, now: Double) -> Int32 {
        if let slot = index[key] {
            slots[Int(slot)].finOut = false
            slots[Int(slot)].finIn = false
            touch(slot, as: flowClass, now: now)
            return slot
        }
        if free < 0 { evictOne() }
        let slot = free
        free = slots[Int(slot)].next
        slots[Int(slot)] = Slot(key: key, lastSeen: now, flowClass: flowClass)
        index[key] = slot
        append(slot, to: flowClass)
        return slot
    }

    /// Marks activity at `now` and moves the flow to the tail of `flowClass`'s list.
    mutating func touch(_ slot: Int32, as flowClass: PeerFlowClass, now: Double) {
        unlink(slot)
        slots[Int(slot)].lastSeen = now
        slots[Int(slot)].flowClass = flowClass
        append(slot, to: flowClass)
    }

    func flowClass(of slot: Int32) -> PeerFlowClass { slots[Int(slot)].flowClass }

    /// Records a FIN in one direction; true once both directions have sent one.
    mutating func noteFin(_ slot: Int32, outbound: Bool) -> Bool {
        if outbound { slots[Int(slot)].finOut = true } else { slots[Int(slot)].finIn = true }
        return slots[Int(slot)].finOut && slots[Int(slot)].finIn
    }

    // MARK: Lists

    private mutating func evictOne() {
        var victim: Int32 = -1
        var soonest = Double.infinity
        for flowClass in PeerFlowClass.allCases {
            let head = heads[flowClass.rawValue]
            guard head >= 0 else { continue }
            let deadline = slots[Int(head)].lastSeen + flowClass.idleTimeout
            if deadline < soonest { (victim, soonest) = (head, deadline) }
        }
        remove(victim)
        evicted += 1
    }

    private mutating func remove(_ slot: Int32) {
        unlink(slot)
        index[slots[Int(slot)].key] = nil
        slots[Int(slot)].next = free
        free = slot
    }

    private mutating func append(_ slot: Int32, to flowClass: PeerFlowClass) {
        let c = flowClass.rawValue
        slots[Int(slot)].prev = tails[c]
        slots[Int(slot)].next = -1
        if tails[c] >= 0 { slots[Int(tails[c])].next = slot } else { heads[c] = slot }
        tails[c] = slot
    }

    private mutating func unlink(_ slot: Int32) {
        let c = slots[Int(slot)].flowClass.rawValue
        let (prev, next) = (slots[Int(slot)].prev, slots[Int(slot)].next)
        if prev >= 0 { slots[Int(prev)].next = next } else { heads[c] = next }
        if next >= 0 { slots[Int(next)].prev = prev } else { tails[c] = prev }
    }
}
