/// One UDP flow: (peer address, peer port, machine port). It remembers the header of the
/// peer's last datagram (IP header + 8 bytes) to quote in an ICMP port unreachable.
import Wire
final class UDPFlow {
    let id: FlowID
    let key: FlowKey
    var lastActive: Double
    var heapDeadline: Double? = nil
    /// IP header + first 8 bytes of the last datagram from the peer (RFC 792 quoting).
    var quote: [UInt8] = []

    init(id: FlowID, key: FlowKey, now: Double) {
        self.id = id
        self.key = key
        self.lastActive = now
    }
}

extension PacketStack {
    func receiveUDP(_ ip: IPv4Header, _ body: UnsafeRawBufferPointer, packet: UnsafeRawBufferPointer) -> Bool {
        let h: UDPHeader
        do {
            h = try UDPHeader.parse(body, source: ip.source, destination: ip.destination)
        } catch {
            if error == .badChecksum { counters.badChecksum += 1 } else { counters.malformed += 1 }
            return false
        }
        guard h.sourcePort != 0, h.destinationPort != 0 else { counters.malformed += 1; return false }
        let key = FlowKey(peer: ip.source.value, peerPort: h.sourcePort, port: h.destinationPort)
        let flow: UDPFlow
        if let f = udpByKey[key] {
            flow = f
            flow.lastActive = now
        } else {
            guard flowTableHasRoom() else { counters.flowTableFull += 1; return false }
            flow = UDPFlow(id: allocateFlowID(), key: key, now: now)
            udpByKey[key] = flow
            udpByID[flow.id] = flow
            post(.udpFlowOpened(flow.id, port: h.destinationPort))
            let d = now + config.udpIdleTimeout
            flow.heapDeadline = d
            timers.push(d, flow.id)
        }
        let quoteLength = ip.headerLength + 8
        if flow.quote.count != quoteLength { flow.quote = [UInt8](repeating: 0, count: quoteLength) }
        flow.quote.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: packet[0..<quoteLength])) }
        post(.udpReceived(flow.id, payload: [UInt8](UnsafeRawBufferPointer(rebasing: body[h.payloadRange]))))
        return true
    }

    /// A reply from the target: machine:port → peer. Dropped (counted) if too big or the queue is full.
    public func sendUDP(_ flow: FlowID, _ payload: UnsafeRawBufferPointer, now: Double) {
        self.now = max(self.now, now)
        guard let f = udpByID[flow] else { return }
        guard 28 + payload.count <= config.effectiveMTU else { counters.oversize += 1; return }
        guard !outputQueueFull else { counters.outputQueueFull += 1; return }
        f.lastActive = self.now
        let peer = IPv4Address(value: f.key.peer)
        let h = UDPHeader(sourcePort: f.key.port, destinationPort: f.key.peerPort, payloadLength: payload.count)
        emitIP(to: peer, protocolNumber: IPv4Header.protocolUDP, payloadLength: h.length) { datagram throws(IPPacketError) in
            UnsafeMutableRawBufferPointer(rebasing: datagram[8...]).copyMemory(from: payload)
            try h.emit(into: datagram, source: machine, destination: peer)
        }
    }

    /// Target port closed: ICMP destination unreachable / port unreachable to the peer,
    /// quoting the header of its last datagram on the flow. The flow stays (the shell decides).
    public func udpUnreachable(_ flow: FlowID) {
        guard let f = udpByID[flow], !f.quote.isEmpty else { return }
        guard !outputQueueFull else { counters.outputQueueFull += 1; return }
        let quote = f.quote
        emitIP(to: IPv4Address(value: f.key.peer), protocolNumber: IPv4Header.protocolICMP,
               payloadLength: 8 + quote.count) { message throws(IPPacketError) in
            quote.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: message[8...]).copyMemory(from: $0) }
            try ICMPv4Header(type: ICMPv4Header.destinationUnreachable, code: ICMPv4Header.codePortUnreachable)
                .emit(into: message)
        }
    }

    func expireIfIdle(_ f: UDPFlow) {
        let expiry = f.lastActive + config.udpIdleTimeout
        if expiry <= now {
            udpByKey[f.key] = nil
            udpByID[f.id] = nil
            post(.udpFlowExpired(f.id))
        } else {
            f.heapDeadline = expiry
            timers.push(expiry, f.id)
        }
    }
}
