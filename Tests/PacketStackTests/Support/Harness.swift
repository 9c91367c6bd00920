import TestSupport
import Wire
import XCTest
@testable import PacketStack

typealias SplitMix = SplitMix64

/// A packet the stack emitted, parsed (checksums verified).
struct Out {
    var ip: IPv4Header
    var tcp: TCPHeader?
    var udp: UDPHeader?
    var icmp: ICMPv4Header?
    var payload: [UInt8]
    var raw: [UInt8]
    var seq: UInt32 { tcp!.sequenceNumber }
    var flags: TCPFlags { tcp!.flags }
}

/// Plays the peer (the connect side's kernel) against a stack, in memory.
final class Harness {
    let stack: PacketStack
    let peer = KernelPackets.peer
    let machine = KernelPackets.machine
    var now = 0.0
    var config: PacketStackConfig

    init(seed: UInt64 = 1, _ configure: (inout PacketStackConfig) -> Void = { _ in }) {
        var c = PacketStackConfig(machineAddress: KernelPackets.machine)
        configure(&c)
        config = c
        stack = PacketStack(config: c, random: SplitMix(seed: seed))
    }

    static func tcpPacket(from src: IPv4Address, to dst: IPv4Address, _ h: TCPHeader, payload: [UInt8] = []) -> [UInt8] {
        let tcpLen = h.headerLength + payload.count
        var b = [UInt8](repeating: 0, count: 20 + h.headerLength) + payload
        b.withUnsafeMutableBytes { p in
            try! IPv4Header(source: src, destination: dst, protocolNumber: 6, payloadLength: tcpLen).emit(into: p)
            try! h.emit(into: UnsafeMutableRawBufferPointer(rebasing: p[20...]), source: src, destination: dst)
        }
        return b
    }

    func tcp(sport: UInt16 = 40000, dport: UInt16 = 80, seq: UInt32, ack: UInt32 = 0, flags: TCPFlags, window: UInt16 = 65535,
             payload: [UInt8] = [], mss: UInt16? = nil, wscale: UInt8? = nil) -> [UInt8] {
        var h = TCPHeader(sourcePort: sport, destinationPort: dport, sequenceNumber: seq, acknowledgmentNumber: ack, flags: flags, window: window)
        h.maxSegmentSize = mss
        h.windowScale = wscale
        return Harness.tcpPacket(from: peer, to: machine, h, payload: payload)
    }

    func send(_ packet: [UInt8]) {
        packet.withUnsafeBytes { stack.receive(packet: $0, now: now) }
    }

    func events() -> [StackEvent] {
        var out: [StackEvent] = []
        while let e = stack.nextEvent() { out.append(e) }
        return out
    }

    func output(file: StaticString = #filePath, line: UInt = #line) -> [Out] {
        var raws: [[UInt8]] = []
        stack.transmit { raws.append(Array($0)); return true }
        return raws.map { Harness.parse($0, file: file, line: line) }
    }

    static func parse(_ raw: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> Out {
        raw.withUnsafeBytes { p in
            let ip = try! IPv4Header.parse(p)
            XCTAssertEqual(ip.ttl, 64, file: file, line: line)
            XCTAssertTrue(ip.dontFragment, file: file, line: line)
            let body = UnsafeRawBufferPointer(rebasing: p[ip.payloadRange])
            var o = Out(ip: ip, payload: [], raw: raw)
            switch ip.protocolNumber {
            case 6:
                let (h, payloadOffset) = try! TCPHeader.parse(body, source: ip.source, destination: ip.destination)
                o.tcp = h
                o.payload = Array(body[payloadOffset...])
            case 17:
                let parsed = UDPPacket.parse(p)
                XCTAssertNotNil(parsed, file: file, line: line)
                o.udp = try! UDPHeader.parse(body, source: ip.source, destination: ip.destination)
                o.payload = Array(body[8...])
            case 1:
                o.icmp = try! ICMPv4Header.parse(body)
                o.payload = Array(body[8...])
            default:
                XCTFail("unexpected protocol", file: file, line: line)
            }
            return o
        }
    }

    /// Reads everything the flow has buffered.
    func read(_ flow: FlowID, max: Int = .max) -> [UInt8] {
        var got: [UInt8] = []
        stack.readTCP(flow) { buf in
            let n = min(buf.count, max - got.count)
            got += buf[0..<n]
            return n
        }
        return got
    }

    @discardableResult
    func write(_ flow: FlowID, _ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBytes { stack.writeTCP(flow, $0, now: now) }
    }

    /// A completed handshake. Returns the flow, the stack's ISS and the SYN-ACK.
    func connect(sport: UInt16 = 40000, port: UInt16 = 80, iss: UInt32 = 1000, mss: UInt16 = 1460, wscale: UInt8? = 7,
                 window: UInt16 = 65535, file: StaticString = #filePath, line: UInt = #line) -> (flow: FlowID, iss: UInt32, synAck: Out) {
        send(tcp(sport: sport, dport: port, seq: iss, flags: .syn, window: window, mss: mss, wscale: wscale))
        guard case .tcpConnect(let flow, let p)? = events().first else {
            XCTFail("no tcpConnect", file: file, line: line)
            return (0, 0, Out(ip: IPv4Header(source: peer, destination: peer, protocolNumber: 0, payloadLength: 0), payload: [], raw: []))
        }
        XCTAssertEqual(p, port, file: file, line: line)
        XCTAssertTrue(output().isEmpty, "nothing before the shell connected", file: file, line: line)
        stack.tcpConnected(flow, now: now)
        let out = output()
        XCTAssertEqual(out.count, 1, file: file, line: line)
        let synAck = out[0]
        XCTAssertEqual(synAck.flags, [.syn, .ack], file: file, line: line)
        XCTAssertEqual(synAck.tcp!.acknowledgmentNumber, iss &+ 1, file: file, line: line)
        send(tcp(sport: sport, dport: port, seq: iss &+ 1, ack: synAck.seq &+ 1, flags: .ack, window: window))
        XCTAssertTrue(output().isEmpty, file: file, line: line)
        return (flow, synAck.seq, synAck)
    }
}

func bytes(_ n: Int, seed: UInt64) -> [UInt8] {
    var rng = SplitMix(seed: seed)
    var out = [UInt8](repeating: 0, count: n)
    var i = 0
    while i < n {
        var w = rng.next()
        for _ in 0..<8 where i < n { out[i] = UInt8(truncatingIfNeeded: w); w >>= 8; i += 1 }
    }
    return out
}
