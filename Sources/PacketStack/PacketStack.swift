/// A pure userspace IPv4 stack for one connect session: it terminates every TCP and UDP flow
/// addressed to the machine address and answers ICMP echo for it. No I/O, no clock, no
/// threads: packets in (`receive`), packets out (`transmit`), events out (`nextEvent`), shell
/// calls in; time arrives as `now` (monotonic seconds) and timers fire in `advance`.
/// Not thread-safe: one stack belongs to one event loop.
import Wire
public final class PacketStack {
    public let config: PacketStackConfig
    public internal(set) var counters = StackCounters()

    let machine: IPv4Address
    var now: Double = 0
    private var random: () -> UInt64
    private var ipID: UInt16 = 0

    private var events: [StackEvent] = []
    private var eventHead = 0
    private let queue = PacketQueue()

    private var tcpByKey: [FlowKey: TCPConnection] = [:]
    private var tcpByID: [FlowID: TCPConnection] = [:]
    var udpByKey: [FlowKey: UDPFlow] = [:]
    var udpByID: [FlowID: UDPFlow] = [:]
    private var nextFlowID: FlowID = 1
    private var halfOpenCount = 0
    private var timeWaitCount = 0
    var timers = FlowTimers()
    private var ackList: [TCPConnection] = []
    private var blockedList: [TCPConnection] = []

    public convenience init(config: PacketStackConfig) {
        self.init(config: config, random: SystemRandomNumberGenerator())
    }

    public init<R: RandomNumberGenerator>(config: PacketStackConfig, random: R) {
        self.config = config
        self.machine = config.machineAddress
        var generator = random
        self.random = { generator.next() }
    }

    // MARK: public API

    public var flowCount: Int { tcpByID.count - timeWaitCount + udpByID.count }
    /// Bytes of packets waiting in the output queue.
    public var queuedOutputBytes: Int { queue.byteCount }

    public func nextEvent() -> StackEvent? {
        guard eventHead < events.count else { return nil }
        let e = events[eventHead]
        eventHead += 1
        if eventHead == events.count {
            events.removeAll(keepingCapacity: true)
            eventHead = 0
        }
        return e
    }

    public func receive(packet: UnsafeRawBufferPointer, now: Double) {
        self.now = max(self.now, now)
        counters.packetsIn += 1
        counters.bytesIn += packet.count
        let ip: IPv4Header
        do {
            ip = try IPv4Header.parse(packet)
        } catch {
            if error == .badChecksum { counters.badChecksum += 1 } else { counters.malformed += 1 }
            return
        }
        guard ip.destination == machine else { counters.notForMachine += 1; return }
        guard !ip.isFragment else { counters.fragment += 1; return }
        let body = UnsafeRawBufferPointer(rebasing: packet[ip.payloadRange])
        let ok: Bool
        switch ip.protocolNumber {
        case IPv4Header.protocolTCP: ok = receiveTCP(ip, body)
        case IPv4Header.protocolUDP: ok = receiveUDP(ip, body, packet: packet)
        case IPv4Header.protocolICMP: ok = receiveICMP(ip, body)
        default:
            counters.unsupportedProtocol += 1
            ok = false
        }
        if ok { counters.accepted += 1 }
    }

    public func transmit(_ send: (UnsafeRawBufferPointer) -> Bool) {
        flushAcks()
        while true {
            let (packets, bytes) = queue.drain(send)
            counters.packetsOut += packets
            counters.bytesOut += bytes
            guard queue.isEmpty, !blockedList.isEmpty else { return }
            // Room again: let flows that stopped at the queue limit send more.
            let blocked = blockedList
            blockedList.removeAll(keepingCapacity: true)
            for c in blocked {
                c.inBlockedList = false
                if tcpByID[c.id] === c {
                    c.output()
                    reschedule(c)
                }
            }
            if queue.isEmpty { return }
        }
    }

    public func tcpConnected(_ flow: FlowID, now: Double) {
        self.now = max(self.now, now)
        tcpByID[flow]?.connected()
    }

    public func tcpRefused(_ flow: FlowID) {
        guard let c = tcpByID[flow] else { return }
        if c.state == .synPending { c.sendRefusal() }
        else if c.state != .timeWait { c.abort(); return }
        removeTCP(c)
    }

    public func readTCP(_ flow: FlowID, _ body: (UnsafeRawBufferPointer) -> Int) {
        tcpByID[flow]?.read(body)
    }

    public func receivedCount(_ flow: FlowID) -> Int { tcpByID[flow]?.rcv.count ?? 0 }

    public func writeTCP(_ flow: FlowID, _ bytes: UnsafeRawBufferPointer, now: Double) -> Int {
        self.now = max(self.now, now)
        return tcpByID[flow]?.write(bytes) ?? 0
    }

    public func sendCapacity(_ flow: FlowID) -> Int { tcpByID[flow]?.sendCapacity ?? 0 }

    public func finishTCP(_ flow: FlowID, now: Double) {
        self.now = max(self.now, now)
        tcpByID[flow]?.finish()
    }

    public func abortTCP(_ flow: FlowID) {
        tcpByID[flow]?.abort()
    }

    public var nextDeadline: Double? {
        // Heap entries are lazy (see FlowTimers): drop or move entries whose flow's timers changed.
        while let top = timers.first {
            if let c = tcpByID[top.value], c.heapDeadline == top.deadline {
                if let d = c.earliestDeadline, d <= top.deadline { return top.deadline }
                timers.pop()
                c.heapDeadline = nil
                reschedule(c)
            } else if let u = udpByID[top.value], u.heapDeadline == top.deadline {
                let expiry = u.lastActive + config.udpIdleTimeout
                if expiry <= top.deadline { return top.deadline }
                timers.pop()
                u.heapDeadline = expiry
                timers.push(expiry, u.id)
            } else {
                timers.pop()
            }
        }
        return nil
    }

    public func advance(now: Double) {
        self.now = max(self.now, now)
        while let top = timers.first, top.deadline <= self.now {
            timers.pop()
            if let c = tcpByID[top.value] {
                guard c.heapDeadline == top.deadline else { continue }
                c.heapDeadline = nil
                c.fireTimers()
                if tcpByID[c.id] === c { reschedule(c) }
            } else if let u = udpByID[top.value] {
                guard u.heapDeadline == top.deadline else { continue }
                u.heapDeadline = nil
                expireIfIdle(u)
            }
        }
    }

    // MARK: internals shared with the flows

    var outputQueueFull: Bool { queue.byteCount >= config.outputQueueLimit }

    func post(_ e: StackEvent) { events.append(e) }

    /// Registers the flow's earliest timer if it is earlier than what the heap already holds for it.
    func reschedule(_ c: TCPConnection) {
        guard let d = c.earliestDeadline else { return }
        if let h = c.heapDeadline, h <= d { return }
        c.heapDeadline = d
        timers.push(d, c.id)
    }

    func scheduleAck(_ c: TCPConnection) {
        if !c.inAckList {
            c.inAckList = true
            ackList.append(c)
        }
        reschedule(c)
    }

    func block(_ c: TCPConnection) {
        if !c.inBlockedList {
            c.inBlockedList = true
            blockedList.append(c)
        }
    }

    private func flushAcks() {
        guard !ackList.isEmpty else { return }
        // Compacted in place (no copy per transmit): ACKs that may wait stay listed.
        var kept = 0
        for i in ackList.indices {
            let c = ackList[i]
            let live = c.ackPending && tcpByID[c.id] === c
            if live && c.ackMayWait {
                ackList[kept] = c   // its delayed-ACK timer, or the answer's data, sends it
                kept += 1
                continue
            }
            c.inAckList = false
            if live { c.sendAck() }
        }
        ackList.removeSubrange(kept...)
    }

    func leftHalfOpen(_ c: TCPConnection) {
        if c.countedHalfOpen {
            c.countedHalfOpen = false
            halfOpenCount -= 1
        }
    }

    func enteredTimeWait(_ c: TCPConnection) {
        if !c.countedTimeWait {
            c.countedTimeWait = true
            timeWaitCount += 1
        }
    }

    func removeTCP(_ c: TCPConnection) {
        guard tcpByID[c.id] === c else { return }
        tcpByID[c.id] = nil
        tcpByKey[c.key] = nil
        leftHalfOpen(c)
        if c.countedTimeWait {
            c.countedTimeWait = false
            timeWaitCount -= 1
        }
    }

    func allocateFlowID() -> FlowID {
        let id = nextFlowID
        nextFlowID &+= 1
        if nextFlowID == 0 { nextFlowID = 1 }
        return id
    }

    /// Room for one more flow, reclaiming a TIME_WAIT entry if the table is full.
    func flowTableHasRoom() -> Bool {
        if tcpByID.count + udpByID.count < config.maxFlows { return true }
        guard timeWaitCount > 0, let victim = tcpByID.values.first(where: { $0.isTimeWait }) else { return false }
        removeTCP(victim)
        return true
    }

    // MARK: TCP demux

    private func receiveTCP(_ ip: IPv4Header, _ body: UnsafeRawBufferPointer) -> Bool {
        let h: TCPHeader
        let payloadOffset: Int
        do {
            (h, payloadOffset) = try TCPHeader.parse(body, source: ip.source, destination: ip.destination)
        } catch {
            if error == .badChecksum { counters.badChecksum += 1 } else { counters.malformed += 1 }
            return false
        }
        let payload = UnsafeRawBufferPointer(rebasing: body[payloadOffset...])
        let key = FlowKey(peer: ip.source.value, peerPort: h.sourcePort, port: h.destinationPort)
        let isSYN = h.flags.contains(.syn) && !h.flags.contains(.ack) && !h.flags.contains(.rst)
        if let c = tcpByKey[key] {
            // A new SYN on a TIME_WAIT tuple beyond the old stream starts a new flow (RFC 9293 §3.10.7.4 note, RFC 6191).
            if isSYN && c.isTimeWait && seqLT(c.rcvNxtSeq, h.sequenceNumber) {
                removeTCP(c)
            } else {
                return c.segmentArrived(h, payload)
            }
        }
        if h.flags.contains(.rst) {
            counters.noFlow += 1
            return false
        }
        guard isSYN else {
            sendResetFor(ip, h, payloadCount: payload.count)
            counters.noFlow += 1
            return false
        }
        guard h.destinationPort != 0, h.sourcePort != 0 else {
            counters.malformed += 1
            return false
        }
        guard flowTableHasRoom() else {
            sendResetFor(ip, h, payloadCount: payload.count)
            counters.flowTableFull += 1
            return false
        }
        guard halfOpenCount < config.maxHalfOpen else {
            sendResetFor(ip, h, payloadCount: payload.count)
            counters.halfOpenLimit += 1
            return false
        }
        let id = allocateFlowID()
        let c = TCPConnection(id: id, key: key, stack: self, syn: h, iss: UInt32(truncatingIfNeeded: random()))
        tcpByKey[key] = c
        tcpByID[id] = c
        halfOpenCount += 1
        post(.tcpConnect(id, port: h.destinationPort))
        return true
    }

    /// RFC 9293 §3.10.7.1: RST for a segment that belongs to no connection.
    private func sendResetFor(_ ip: IPv4Header, _ h: TCPHeader, payloadCount: Int) {
        let key = FlowKey(peer: ip.source.value, peerPort: h.sourcePort, port: h.destinationPort)
        let rst: TCPHeader
        if h.flags.contains(.ack) {
            rst = TCPHeader(sourcePort: h.destinationPort, destinationPort: h.sourcePort, sequenceNumber: h.acknowledgmentNumber,
                            acknowledgmentNumber: 0, flags: .rst, window: 0)
        } else {
            let len = payloadCount + (h.flags.contains(.syn) ? 1 : 0) + (h.flags.contains(.fin) ? 1 : 0)
            rst = TCPHeader(sourcePort: h.destinationPort, destinationPort: h.sourcePort, sequenceNumber: 0,
                            acknowledgmentNumber: h.sequenceNumber &+ UInt32(truncatingIfNeeded: len), flags: [.rst, .ack], window: 0)
        }
        emitTCP(header: rst, to: key)
    }

    // MARK: emitting

    private func nextIPID() -> UInt16 {
        ipID &+= 1
        return ipID
    }

    /// Queues an IPv4 packet of `payloadLength` bytes to `destination`: `fill` writes the payload
    /// into the buffer it is given, exactly `payloadLength` bytes (the IP header is written here).
    /// Returns false if the packet was not queued.
    @discardableResult
    func emitIP(to destination: IPv4Address, protocolNumber: UInt8, payloadLength: Int,
                _ fill: (UnsafeMutableRawBufferPointer) throws(IPPacketError) -> Void) -> Bool {
        let total = 20 + payloadLength
        guard total <= 65535 else { return false }
        let packet = queue.reserve(total)
        let ip = IPv4Header(source: machine, destination: destination, protocolNumber: protocolNumber,
                            payloadLength: payloadLength, identification: nextIPID())
        do {
            try fill(UnsafeMutableRawBufferPointer(rebasing: packet[20...]))
            try ip.emit(into: packet)
        } catch {
            preconditionFailure("a packet did not fit the queue space reserved for it: \(error)")
        }
        queue.commit(total)
        return true
    }

    /// A header-only segment (SYN-ACK, RST) to the flow's peer.
    func emitTCP(header h: TCPHeader, to key: FlowKey) {
        let peer = IPv4Address(value: key.peer)
        emitIP(to: peer, protocolNumber: IPv4Header.protocolTCP, payloadLength: h.headerLength) { segment throws(IPPacketError) in
            try h.emit(into: segment, source: machine, destination: peer)
        }
    }

    /// A segment carrying `count` bytes of `ring` from `offset`.
    func emitTCP(_ key: FlowKey, seq: UInt32, ack: UInt32, flags: TCPFlags, window: UInt16,
                 ring: ByteRing, offset: Int, count: Int) {
        let peer = IPv4Address(value: key.peer)
        let h = TCPHeader(sourcePort: key.port, destinationPort: key.peerPort, sequenceNumber: seq,
                          acknowledgmentNumber: ack, flags: flags, window: window)
        emitIP(to: peer, protocolNumber: IPv4Header.protocolTCP, payloadLength: 20 + count) { segment throws(IPPacketError) in
            if count > 0 { ring.copy(from: offset, count: count, to: UnsafeMutableRawBufferPointer(rebasing: segment[20...])) }
            try h.emit(into: segment, source: machine, destination: peer)
        }
    }
}
