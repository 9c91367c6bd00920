import Wire

/// ICMP for the machine address: echo requests are answered with an echo reply carrying the
/// same identifier, sequence number and data; every other ICMP message is dropped (counted
/// as unsupported: the stack sends nothing that could provoke one it needs to act on).
extension PacketStack {
    func receiveICMP(_ ip: IPv4Header, _ message: UnsafeRawBufferPointer) -> Bool {
        let h: ICMPv4Header
        do {
            h = try ICMPv4Header.parse(message)
        } catch {
            if error == .badChecksum { counters.badChecksum += 1 } else { counters.malformed += 1 }
            return false
        }
        guard h.type == ICMPv4Header.echoRequest, h.code == 0 else {
            counters.unsupportedProtocol += 1
            return false
        }
        guard !outputQueueFull else {
            counters.outputQueueFull += 1
            return true   // accepted, but the answer was dropped (counted as an output drop)
        }
        let data = UnsafeRawBufferPointer(rebasing: message[8...])
        emitIP(to: ip.source, protocolNumber: IPv4Header.protocolICMP, payloadLength: message.count) { reply throws(IPPacketError) in
            UnsafeMutableRawBufferPointer(rebasing: reply[8...]).copyMemory(from: data)
            try ICMPv4Header(type: ICMPv4Header.echoReply, code: 0, rest: h.rest).emit(into: reply)
        }
        return true
    }
}
