// libFuzzer target for PacketStack. The input is a script of operations; each op byte picks
// one of: a raw packet (optionally with its checksums fixed so it gets past the edge), a TCP
// segment built relative to what the fuzzer's "peer" has seen (so the state machine is
// reachable), UDP/ICMP packets, and the shell's calls (connect/refuse/read/write/finish/abort,
// UDP replies, unreachable, time passing, a tunnel that accepts only some packets).
// Invariants checked after every op: no crash; raw packets' headers round-trip through the
// Wire/IP codecs (parse, emit, parse again: the same value); packetsIn == accepted + inboundDropped; every
// emitted packet parses with valid checksums and comes from the machine address; buffers
// stay within their limits; events only name flows that exist, and a closed flow says nothing.
// The connect side's PeerPacketFilter watches the same traffic: what the fuzzer's peer sends is
// outbound (it opens flows), what the stack emits is inbound, and every raw packet is also fed to
// it both ways, and with its addresses swapped (the checksums stay valid) so that packets from
// the machine reach its TCP/UDP/ICMP checks. Its invariants: drops add up by reason, the flow
// table stays within its size, and an admitted packet is well-formed IPv4 from the machine.
// Build and run: FUZZ_SECONDS=60 scripts/fuzz FuzzPackets (seeds in Tests/Fuzz/corpus/packets).
import Connect
import PacketStack
import Wire

private struct Reader {
    let bytes: UnsafeBufferPointer<UInt8>
    var i = 0
    var atEnd: Bool { i >= bytes.count }
    mutating func u8() -> UInt8 { defer { i += 1 }; return i < bytes.count ? bytes[i] : 0 }
    mutating func u16() -> UInt16 { UInt16(u8()) << 8 | UInt16(u8()) }
    mutating func u32() -> UInt32 { UInt32(u16()) << 16 | UInt32(u16()) }
    mutating func take(_ n: Int) -> [UInt8] {
        let end = min(bytes.count, i + n)
        defer { i = end }
        return i < end ? Array(bytes[i..<end]) : []
    }
}

private let machine = IPv4Address(10, 250, 0, 2)
private let peer = IPv4Address(10, 250, 0, 1)
private let ports: [UInt16] = [40000, 40001, 40002, 40003]

private final class Model {
    let stack: PacketStack
    let config: PacketStackConfig
    var filter = PeerPacketFilter(machine: machine, localAddresses: [peer, IPv4Address(198, 18, 0, 1)], maxFlows: 8)
    var now = 0.0
    var tcpLive: [FlowID: UInt16] = [:]           // flow → machine port
    var tcpPending: Set<FlowID> = []              // tcpConnect not yet answered
    var udpLive: Set<FlowID> = []
    var everSeen: Set<FlowID> = []
    var peerNext: [UInt16: UInt32] = [:]          // per peer port: next sequence number the peer sends
    var stackNext: [UInt16: UInt32] = [:]         // per peer port: highest seq+len seen from the stack
    var opsDone = 0

    init() {
        var c = PacketStackConfig(machineAddress: machine)
        c.mtu = 1500
        c.maxFlows = 8
        c.maxHalfOpen = 4
        c.receiveBuffer = 8192
        c.sendBuffer = 8192
        c.outputQueueLimit = 16384
        c.udpIdleTimeout = 5
        config = c
        stack = PacketStack(config: c, random: Fixed())
    }

    struct Fixed: RandomNumberGenerator {
        var s: UInt64 = 0x1234_5678
        mutating func next() -> UInt64 { s = s &* 6364136223846793005 &+ 1442695040888963407; return s }
    }

    func feed(_ packet: [UInt8]) {
        packet.withUnsafeBytes { p in
            filter.noteOutbound(p, now: now)
            stack.receive(packet: p, now: now)
        }
    }

    /// Arbitrary bytes through the filter: as sent, as received, and received with the
    /// addresses swapped.
    func filterRaw(_ raw: [UInt8]) {
        var swapped = raw
        if swapped.count >= 20 {
            for i in 12..<16 { swapped.swapAt(i, i + 4) }
        }
        raw.withUnsafeBytes { p in
            filter.noteOutbound(p, now: now)
            checkFilter(p)
        }
        swapped.withUnsafeBytes { checkFilter($0) }
    }

    /// A packet toward the peer: if the filter admits it, it must be IPv4 from the machine to the peer
    /// (or the SOCKS address), and not a fragment.
    func checkFilter(_ p: UnsafeRawBufferPointer) {
        guard filter.admitsInbound(p, now: now) else { return }
        guard let ip = try? IPv4Header.parse(p) else { preconditionFailure("the filter admitted an unparsable packet") }
        precondition(ip.source == machine && filter.localAddresses.contains(ip.destination) && !ip.isFragment,
                     "the filter admitted a packet not from the machine to this host")
    }

    func tcpSegment(port: UInt16, dport: UInt16, seq: UInt32, ack: UInt32, flags: UInt8, window: UInt16, payload: [UInt8], options: Bool) -> [UInt8] {
        var h = TCPHeader(sourcePort: port, destinationPort: dport, sequenceNumber: seq, acknowledgmentNumber: ack,
                          flags: TCPFlags(rawValue: flags), window: window)
        if options {
            h.maxSegmentSize = 536 + UInt16(window & 0x3FF)
            h.windowScale = UInt8(window >> 12)
            h.sackPermitted = true
        }
        let len = h.headerLength + payload.count
        var b = [UInt8](repeating: 0, count: 20)
        b += [UInt8](repeating: 0, count: h.headerLength) + payload
        b.withUnsafeMutableBytes { p in
            try! IPv4Header(source: peer, destination: machine, protocolNumber: 6, payloadLength: len).emit(into: p)
            try! h.emit(into: UnsafeMutableRawBufferPointer(rebasing: p[20...]), source: peer, destination: machine)
        }
        return b
    }

    func udpPacket(sourcePort: UInt16, destinationPort: UInt16, payload: [UInt8]) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: UDPPacket.headerLength) + payload
        b.withUnsafeMutableBytes { p in
            _ = try! UDPPacket.emit(into: p, source: peer, sourcePort: sourcePort, destination: machine,
                                    destinationPort: destinationPort, payloadLength: payload.count)
        }
        return b
    }

    /// Recomputes the IP and transport checksums of a raw packet if it parses far enough.
    func fixChecksums(_ b: inout [UInt8]) {
        guard b.count >= 20 else { return }
        b[0] = 0x45
        b.storeBigEndian(UInt16(b.count), at: 2)
        b[6] &= 0x40; b[7] = 0   // not a fragment
        b[12] = 10; b[13] = 250; b[14] = 0; b[15] = 1
        b[16] = 10; b[17] = 250; b[18] = 0; b[19] = 2
        // The transport checksum by hand (the codecs would also rewrite the fuzzed header fields),
        // then the IP header's.
        b.withUnsafeMutableBytes { p in
            let body = UnsafeMutableRawBufferPointer(rebasing: p[20...])
            let n = body.count
            func fill(at field: Int, pseudo: UInt32) {
                body.storeBigEndian(UInt16(0), at: field)
                let c = InternetChecksum.finish(InternetChecksum.combine(pseudo, InternetChecksum.sum(body)))
                body.storeBigEndian(c, at: field)
            }
            func pseudo(_ protocolNumber: UInt8) -> UInt32 {
                InternetChecksum.pseudoHeader(source: peer, destination: machine, protocolNumber: protocolNumber, length: n)
            }
            switch p[9] {
            case 6 where n >= 20: fill(at: 16, pseudo: pseudo(6))
            case 17 where n >= 8:
                body.storeBigEndian(UInt16(n), at: 4)
                fill(at: 6, pseudo: pseudo(17))
            case 1 where n >= 8: fill(at: 2, pseudo: 0)
            default: break
            }
            p.storeBigEndian(UInt16(0), at: 10)
            p.storeBigEndian(InternetChecksum.finish(InternetChecksum.sum(UnsafeMutableRawBufferPointer(rebasing: p[0..<20]))), at: 10)
        }
    }

    /// The Wire/IP codecs are symmetric on whatever parses: emitting a parsed header (over the
    /// same payload) gives bytes that parse back to the same value. (Not byte for byte in general:
    /// a checksum field may hold 0xFFFF where emit writes its equal 0x0000, and unknown TCP
    /// options are skipped.)
    func checkCodecs(_ raw: [UInt8]) {
        raw.withUnsafeBytes { p in
            guard let ip = try? IPv4Header.parse(p) else { return }
            var header = [UInt8](repeating: 0, count: ip.totalLength)
            header.withUnsafeMutableBytes { _ = try! ip.emit(into: $0) }
            precondition((try? header.withUnsafeBytes { try IPv4Header.parse($0) }) == ip, "IPv4 header does not round-trip")
            let body = UnsafeRawBufferPointer(rebasing: p[ip.payloadRange])
            let (source, destination) = (ip.source, ip.destination)
            switch ip.protocolNumber {
            case IPv4Header.protocolTCP:
                guard let (h, offset) = try? TCPHeader.parse(body, source: source, destination: destination) else { return }
                var segment = [UInt8](repeating: 0, count: h.headerLength) + Array(body[offset...])
                segment.withUnsafeMutableBytes { _ = try! h.emit(into: $0, source: source, destination: destination) }
                let again = try? segment.withUnsafeBytes { try TCPHeader.parse($0, source: source, destination: destination) }
                precondition(again?.header == h && again?.payloadOffset == h.headerLength, "TCP header does not round-trip")
            case IPv4Header.protocolUDP:
                guard let h = try? UDPHeader.parse(body, source: source, destination: destination) else { return }
                var datagram = [UInt8](repeating: 0, count: 8) + Array(body[h.payloadRange])
                datagram.withUnsafeMutableBytes { try! h.emit(into: $0, source: source, destination: destination) }
                let again = try? datagram.withUnsafeBytes { try UDPHeader.parse($0, source: source, destination: destination) }
                precondition(again == h, "UDP header does not round-trip")
            case IPv4Header.protocolICMP:
                guard let h = try? ICMPv4Header.parse(body) else { return }
                var message = [UInt8](repeating: 0, count: 8) + Array(body[8...])
                message.withUnsafeMutableBytes { try! h.emit(into: $0) }
                precondition((try? message.withUnsafeBytes { try ICMPv4Header.parse($0) }) == h, "ICMP header does not round-trip")
            default:
                break
            }
        }
    }

    func pickTCP(_ r: inout Reader) -> FlowID? {
        let ids = tcpLive.keys.sorted()
        guard !ids.isEmpty else { return nil }
        return ids[Int(r.u8()) % ids.count]
    }

    func drainOutput(acceptUpTo limit: Int) {
        var n = 0
        stack.transmit { p in
            guard n < limit else { return false }
            n += 1
            check(packet: p)
            return true
        }
    }

    func check(packet p: UnsafeRawBufferPointer) {
        checkFilter(p)
        guard let ip = try? IPv4Header.parse(p) else { preconditionFailure("stack emitted an unparsable packet") }
        precondition(ip.source == machine && ip.destination == peer, "emitted packet with wrong addresses")
        precondition(p.count <= config.mtu, "emitted packet larger than the MTU")
        let body = UnsafeRawBufferPointer(rebasing: p[ip.payloadRange])
        switch ip.protocolNumber {
        case 6:
            guard let (h, payloadOffset) = try? TCPHeader.parse(body, source: ip.source, destination: ip.destination) else {
                preconditionFailure("bad TCP segment emitted")
            }
            let len = UInt32(body.count - payloadOffset) + (h.flags.contains(.syn) ? 1 : 0) + (h.flags.contains(.fin) ? 1 : 0)
            let end = h.sequenceNumber &+ len
            if let cur = stackNext[h.destinationPort] {
                if Int32(bitPattern: end &- cur) > 0 { stackNext[h.destinationPort] = end }
            } else if h.flags.contains(.syn) {
                stackNext[h.destinationPort] = end
            }
            if h.flags.contains(.rst) && !h.flags.contains(.ack) { stackNext[h.destinationPort] = nil }
        case 17:
            precondition(UDPPacket.parse(p) != nil, "bad UDP packet emitted")
        case 1:
            precondition((try? ICMPv4Header.parse(body)) != nil, "bad ICMP emitted")
        default:
            preconditionFailure("unexpected protocol emitted")
        }
    }

    func drainEvents() {
        while let e = stack.nextEvent() {
            switch e {
            case .tcpConnect(let id, let port):
                precondition(!everSeen.contains(id), "flow id reused")
                everSeen.insert(id)
                tcpLive[id] = port
                tcpPending.insert(id)
            case .tcpReceived(let id), .tcpPeerFinished(let id), .tcpWritable(let id):
                precondition(tcpLive[id] != nil, "event for a flow that is not live: \(e)")
            case .tcpClosed(let id, _):
                precondition(tcpLive[id] != nil, "tcpClosed for a flow that is not live")
                tcpLive[id] = nil
                tcpPending.remove(id)
            case .udpFlowOpened(let id, _):
                precondition(!everSeen.contains(id), "flow id reused")
                everSeen.insert(id)
                udpLive.insert(id)
            case .udpReceived(let id, _):
                precondition(udpLive.contains(id), "udpReceived for an unknown flow")
            case .udpFlowExpired(let id):
                precondition(udpLive.remove(id) != nil, "udpFlowExpired for an unknown flow")
            }
        }
    }

    func checkInvariants() {
        let c = stack.counters
        precondition(c.packetsIn == c.accepted + c.inboundDropped, "counters inconsistent: \(c)")
        precondition(stack.flowCount <= config.maxFlows, "flow table over its limit")
        precondition(stack.flowCount >= 0)
        for id in tcpLive.keys {
            precondition(stack.receivedCount(id) <= config.receiveBuffer, "receive buffer over its limit")
            precondition(stack.sendCapacity(id) <= config.sendBuffer, "send capacity over the buffer")
        }
        precondition(stack.queuedOutputBytes <= config.outputQueueLimit + config.mtu + 256 * (opsDone + 1),
                     "output queue unbounded")
        if let d = stack.nextDeadline { precondition(d.isFinite && d >= 0, "bad deadline") }
        precondition(filter.flowCount <= 8, "the filter's flow table over its limit")
        precondition(filter.dropped == PeerPacketFilter.DropReason.allCases.reduce(0) { $0 + filter.dropped($1) },
                     "the filter's drops do not add up by reason")
    }

    func run(_ r: inout Reader) {
        while !r.atEnd {
            opsDone += 1
            let op = r.u8()
            switch op % 16 {
            case 0:   // raw packet, as is
                let b = r.take(Int(r.u16() % 1600))
                checkCodecs(b)
                filterRaw(b)
                feed(b)
            case 1:   // raw packet with checksums fixed
                var b = r.take(Int(r.u16() % 1600))
                fixChecksums(&b)
                checkCodecs(b)
                filterRaw(b)
                feed(b)
            case 2, 3, 4, 5:   // TCP segment relative to the peer model
                let port = ports[Int(r.u8()) % ports.count]
                let dport: UInt16 = r.u8() & 1 == 0 ? 80 : 443
                let flags = r.u8()
                let seqDelta = UInt32(bitPattern: Int32(Int8(bitPattern: r.u8())))
                let ackDelta = UInt32(bitPattern: Int32(Int8(bitPattern: r.u8())))
                let window = r.u16()
                let n = Int(r.u8()) % 64 == 63 ? Int(r.u16() % 1460) : Int(r.u8() % 32)
                let payload = r.take(n)
                let base = peerNext[port] ?? 1000
                var seq = base
                if op & 0x80 != 0 { seq = seq &+ seqDelta }
                let ack = (stackNext[port] ?? 0) &+ (op & 0x40 != 0 ? ackDelta : 0)
                let f = flags & 0x3F
                feed(tcpSegment(port: port, dport: dport, seq: seq, ack: ack, flags: f, window: window, payload: payload,
                                options: f & 0x02 != 0))
                if op & 0x80 == 0 {
                    peerNext[port] = seq &+ UInt32(payload.count) &+ (f & 0x02 != 0 ? 1 : 0) &+ (f & 0x01 != 0 ? 1 : 0)
                }
            case 6:   // UDP datagram
                let port = ports[Int(r.u8()) % ports.count]
                let dport = UInt16(r.u8() % 4) + 53
                let payload = r.take(Int(r.u8()))
                feed(udpPacket(sourcePort: port, destinationPort: dport, payload: payload))
            case 7:   // shell answers a pending connect
                let ids = tcpPending.sorted()
                if !ids.isEmpty {
                    let id = ids[Int(r.u8()) % ids.count]
                    tcpPending.remove(id)
                    if r.u8() % 4 == 0 {
                        stack.tcpRefused(id)
                        tcpLive[id] = nil
                    } else {
                        stack.tcpConnected(id, now: now)
                    }
                }
            case 8:   // shell reads (maybe partly)
                if let id = pickTCP(&r) {
                    let limit = Int(r.u16())
                    var got = 0
                    stack.readTCP(id) { buf in
                        let k = min(buf.count, limit - got)
                        got += k
                        return k
                    }
                }
            case 9:   // shell writes
                if let id = pickTCP(&r) {
                    let n = Int(r.u16() % 20000)
                    let data = [UInt8](repeating: r.u8(), count: n)
                    let cap = stack.sendCapacity(id)
                    let took = data.withUnsafeBytes { stack.writeTCP(id, $0, now: now) }
                    precondition(took <= n && took <= max(cap, 0), "writeTCP took more than offered or than its capacity")
                }
            case 10:
                if let id = pickTCP(&r) { stack.finishTCP(id, now: now) }
            case 11:
                if let id = pickTCP(&r), r.u8() % 4 == 0 {
                    stack.abortTCP(id)
                    tcpLive[id] = nil
                    tcpPending.remove(id)
                }
            case 12:   // UDP reply or unreachable
                let ids = udpLive.sorted()
                if !ids.isEmpty {
                    let id = ids[Int(r.u8()) % ids.count]
                    if r.u8() & 1 == 0 {
                        r.take(Int(r.u8())).withUnsafeBytes { stack.sendUDP(id, $0, now: now) }
                    } else {
                        stack.udpUnreachable(id)
                    }
                }
            case 13:   // time passes
                let step = Double(r.u16()) / 1000
                now += step
                if r.u8() & 1 == 0, let d = stack.nextDeadline, d > now { now = d }
                stack.advance(now: now)
            case 14:   // the tunnel takes only some packets
                drainOutput(acceptUpTo: Int(r.u8() % 8))
            default:   // ICMP echo (valid) with a payload
                let payload = r.take(Int(r.u8()))
                var b = [UInt8](repeating: 0, count: 28 + payload.count)
                b[9] = 1
                b[20] = 8
                for (k, v) in payload.enumerated() { b[28 + k] = v }
                fixChecksums(&b)
                feed(b)
            }
            drainEvents()
            checkInvariants()
        }
        drainOutput(acceptUpTo: .max)
        drainEvents()
        checkInvariants()
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    var reader = Reader(bytes: UnsafeBufferPointer(start: data, count: size))
    Model().run(&reader)
    return 0
}
