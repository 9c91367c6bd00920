import TestSupport
import Wire
import XCTest
@testable import Connect

private let machine = IPv4Address(172, 16, 0, 2)
private let host = IPv4Address(172, 16, 0, 1)
private let socksSource = SOCKS5Server.udpSourceAddress
private let stranger = IPv4Address(10, 9, 9, 9)

// Packets built with the Wire/IP codecs, valid checksums included.

private func ipPacket(from source: IPv4Address, to destination: IPv4Address, protocolNumber: UInt8, bodyLength: Int,
                      fill body: (UnsafeMutableRawBufferPointer) -> Void) -> [UInt8] {
    var packet = [UInt8](repeating: 0, count: 20 + bodyLength)
    packet.withUnsafeMutableBytes { p in
        body(UnsafeMutableRawBufferPointer(rebasing: p[20...]))
        try! IPv4Header(source: source, destination: destination, protocolNumber: protocolNumber, payloadLength: bodyLength)
            .emit(into: p)
    }
    return packet
}

private func tcp(_ source: IPv4Address, _ sourcePort: UInt16, _ destination: IPv4Address, _ destinationPort: UInt16,
                 _ flags: TCPFlags, payload: [UInt8] = []) -> [UInt8] {
    let header = TCPHeader(sourcePort: sourcePort, destinationPort: destinationPort, sequenceNumber: 1000,
                           acknowledgmentNumber: flags.contains(.ack) ? 2000 : 0, flags: flags, window: 65535)
    return ipPacket(from: source, to: destination, protocolNumber: IPv4Header.protocolTCP,
                    bodyLength: header.headerLength + payload.count) { segment in
        for (i, byte) in payload.enumerated() { segment[header.headerLength + i] = byte }
        try! header.emit(into: segment, source: source, destination: destination)
    }
}

private func udp(_ source: IPv4Address, _ sourcePort: UInt16, _ destination: IPv4Address, _ destinationPort: UInt16,
                 payload: [UInt8] = Array("dns?".utf8)) -> [UInt8] {
    var packet = [UInt8](repeating: 0, count: UDPPacket.headerLength) + payload
    packet.withUnsafeMutableBytes { p in
        _ = try! UDPPacket.emit(into: p, source: source, sourcePort: sourcePort, destination: destination,
                                destinationPort: destinationPort, payloadLength: payload.count)
    }
    return packet
}

private func icmp(_ source: IPv4Address, _ destination: IPv4Address, type: UInt8, code: UInt8 = 0, rest: UInt32 = 0,
                  body: [UInt8] = Array("ping".utf8)) -> [UInt8] {
    ipPacket(from: source, to: destination, protocolNumber: IPv4Header.protocolICMP, bodyLength: 8 + body.count) { message in
        for (i, byte) in body.enumerated() { message[8 + i] = byte }
        try! ICMPv4Header(type: type, code: code, rest: rest).emit(into: message)
    }
}

private func echo(_ source: IPv4Address, _ destination: IPv4Address, request: Bool, identifier: UInt16) -> [UInt8] {
    icmp(source, destination, type: request ? ICMPv4Header.echoRequest : ICMPv4Header.echoReply, rest: UInt32(identifier) << 16 | 1)
}

/// The share's "port unreachable" for `original`, quoting its IPv4 header and 8 bytes after it.
private func portUnreachable(quoting original: [UInt8], to destination: IPv4Address = host) -> [UInt8] {
    icmp(machine, destination, type: ICMPv4Header.destinationUnreachable, code: ICMPv4Header.codePortUnreachable,
         body: Array(original.prefix(28)))
}

final class PeerPacketFilterTests: XCTestCase {
    private var filter = PeerPacketFilter(machine: machine, localAddresses: [host, socksSource], maxFlows: 8)
    private var now = 1000.0

    private func send(_ packet: [UInt8]) {
        packet.withUnsafeBytes { filter.noteOutbound($0, now: now) }
    }

    private func admits(_ packet: [UInt8]) -> Bool {
        packet.withUnsafeBytes { filter.admitsInbound($0, now: now) }
    }

    private func assertDropped(_ packet: [UInt8], _ reason: PeerPacketFilter.DropReason,
                               file: StaticString = #filePath, line: UInt = #line) {
        let before = filter.dropped(reason)
        XCTAssertFalse(admits(packet), "admitted", file: file, line: line)
        XCTAssertEqual(filter.dropped(reason), before + 1, "counted as \(reason)", file: file, line: line)
    }

    // MARK: Solicited replies

    func testTheAnswersToAConnectionThisHostOpenedPass() {
        send(tcp(host, 40000, machine, 80, .syn))
        XCTAssertTrue(admits(tcp(machine, 80, host, 40000, [.syn, .ack])))
        send(tcp(host, 40000, machine, 80, .ack, payload: Array("GET /".utf8)))
        XCTAssertTrue(admits(tcp(machine, 80, host, 40000, [.ack, .psh], payload: Array("200 OK".utf8))))
        XCTAssertEqual(filter.dropped, 0)
    }

    func testARefusedConnectionsResetPasses() {
        send(tcp(host, 40001, machine, 1, .syn))
        XCTAssertTrue(admits(tcp(machine, 1, host, 40001, [.rst, .ack])))
    }

    func testUDPRepliesPassToTheTUNAndToTheSOCKSAddress() {
        send(udp(host, 5000, machine, 53))
        XCTAssertTrue(admits(udp(machine, 53, host, 5000)))
        send(udp(socksSource, 1025, machine, 53))
        XCTAssertTrue(admits(udp(machine, 53, socksSource, 1025)))
    }

    func testEchoRepliesPassForTheIdentifierThisHostPingedWith() {
        send(echo(host, machine, request: true, identifier: 7))
        XCTAssertTrue(admits(echo(machine, host, request: false, identifier: 7)))
        assertDropped(echo(machine, host, request: false, identifier: 8), .unsolicited)
    }

    /// How a local program learns that a UDP port is closed, or a path's MTU.
    func testAnICMPErrorAboutAKnownFlowPasses() {
        let query = udp(host, 5001, machine, 9)
        send(query)
        XCTAssertTrue(admits(portUnreachable(quoting: query)))
        assertDropped(portUnreachable(quoting: udp(host, 5002, machine, 9)), .unsolicited)
        assertDropped(portUnreachable(quoting: udp(stranger, 5001, machine, 9)), .unsolicited)
        assertDropped(portUnreachable(quoting: Array(query.prefix(24))), .malformed)
    }

    /// Packets the kernel itself sent into a TUN (TestSupport's capture) open the flows.
    func testTheKernelsOwnPacketsOpenFlows() {
        filter = PeerPacketFilter(machine: KernelPackets.machine, localAddresses: [KernelPackets.peer])
        for packet in [KernelPackets.syn, KernelPackets.udp, KernelPackets.icmpEcho] { send(packet) }
        XCTAssertEqual(filter.flowCount, 3)
        XCTAssertTrue(admits(tcp(KernelPackets.machine, 8080, KernelPackets.peer, 50640, [.syn, .ack])))
        XCTAssertTrue(admits(udp(KernelPackets.machine, 5353, KernelPackets.peer, 40000)))
        XCTAssertTrue(admits(echo(KernelPackets.machine, KernelPackets.peer, request: false, identifier: 0x0432)))
    }

    // MARK: What is dropped

    func testPacketsNotFromTheMachineAreDropped() {
        send(udp(host, 5000, machine, 53))
        assertDropped(udp(stranger, 53, host, 5000), .notFromMachine)
    }

    func testPacketsForAnotherDestinationAreDropped() {
        send(udp(host, 5000, machine, 53))
        assertDropped(udp(machine, 53, IPv4Address(172, 16, 0, 9), 5000), .notForThisHost)
        assertDropped(udp(machine, 53, machine, 5000), .notForThisHost)
    }

    func testTheShareCannotOpenAConnectionToThisHost() {
        assertDropped(tcp(machine, 40000, host, 22, .syn), .connectionAttempt)
        assertDropped(tcp(machine, 40000, socksSource, 22, .syn), .connectionAttempt)
        // Nor slip in without the handshake.
        assertDropped(tcp(machine, 40000, host, 22, .ack, payload: [1, 2, 3]), .unsolicited)
        // A SYN to ports of a flow this host opened is no better.
        send(tcp(host, 40000, machine, 80, .syn))
        assertDropped(tcp(machine, 80, host, 40000, .syn), .connectionAttempt)
    }

    func testUDPToAPortThisHostDidNotUseIsDropped() {
        send(udp(host, 5000, machine, 53))
        assertDropped(udp(machine, 53, host, 5001), .unsolicited)
        assertDropped(udp(machine, 54, host, 5000), .unsolicited)
        assertDropped(udp(machine, 53, socksSource, 5000), .unsolicited)
    }

    func testAnEchoRequestFromTheMachineIsDropped() {
        send(echo(host, machine, request: true, identifier: 7))
        assertDropped(echo(machine, host, request: true, identifier: 7), .unsupported)
        assertDropped(icmp(machine, host, type: 11), .unsupported)
        assertDropped(ipPacket(from: machine, to: host, protocolNumber: 47, bodyLength: 8) { _ in }, .unsupported)
    }

    func testMalformedAndTruncatedPacketsAreDroppedAndCounted() {
        send(udp(host, 5000, machine, 53))
        send(tcp(host, 40000, machine, 80, .syn))
        let reply = udp(machine, 53, host, 5000)
        assertDropped([], .malformed)
        assertDropped(Array(reply.prefix(19)), .malformed)
        assertDropped(Array(reply.prefix(reply.count - 1)), .malformed)   // shorter than its total length
        var ipv6 = reply
        ipv6[0] = 0x60
        assertDropped(ipv6, .malformed)
        var badHeaderSum = reply
        badHeaderSum[8] ^= 1   // TTL, under the header checksum
        assertDropped(badHeaderSum, .malformed)
        var badPayloadSum = reply
        badPayloadSum[reply.count - 1] ^= 1
        assertDropped(badPayloadSum, .malformed)
        var badTCPSum = tcp(machine, 80, host, 40000, [.syn, .ack])
        badTCPSum[badTCPSum.count - 1] ^= 0x80
        assertDropped(badTCPSum, .malformed)
        XCTAssertEqual(filter.dropped, 7)
        XCTAssertTrue(admits(reply), "the well-formed reply still passes")
    }

    func testFragmentsAreDropped() {
        send(udp(host, 5000, machine, 53))
        var first = udp(machine, 53, host, 5000)
        first.withUnsafeMutableBytes { p in
            var header = try! IPv4Header.parse(UnsafeRawBufferPointer(p))
            header.dontFragment = false
            header.moreFragments = true
            try! header.emit(into: p)
        }
        assertDropped(first, .fragment)
    }

    // MARK: Expiry and ends

    func testIdleFlowsExpire() {
        send(udp(host, 5000, machine, 53))
        send(echo(host, machine, request: true, identifier: 7))
        send(tcp(host, 40000, machine, 80, .syn))
        now += PeerFlowClass.icmpEcho.idleTimeout - 1
        XCTAssertTrue(admits(udp(machine, 53, host, 5000)), "a reply refreshes its UDP flow")
        now += 2
        assertDropped(echo(machine, host, request: false, identifier: 7), .unsolicited)
        now += PeerFlowClass.udp.idleTimeout + 1
        assertDropped(udp(machine, 53, host, 5000), .unsolicited)
        assertDropped(tcp(machine, 80, host, 40000, [.syn, .ack]), .unsolicited)
        XCTAssertEqual(filter.flowCount, 0)
    }

    func testAnEstablishedConnectionOutlivesAnUnansweredOne() {
        send(tcp(host, 40000, machine, 80, .syn))
        XCTAssertTrue(admits(tcp(machine, 80, host, 40000, [.syn, .ack])))
        send(tcp(host, 40001, machine, 80, .syn))
        now += 2 * 3600
        XCTAssertTrue(admits(tcp(machine, 80, host, 40000, .ack)), "2 h idle (the first keepalive probe) is fine")
        assertDropped(tcp(machine, 80, host, 40001, [.syn, .ack]), .unsolicited)
        now += PeerFlowClass.tcpEstablished.idleTimeout + 1
        assertDropped(tcp(machine, 80, host, 40000, .ack), .unsolicited)
    }

    func testAResetEndsAConnectionAfterAGrace() {
        send(tcp(host, 40000, machine, 80, .syn))
        XCTAssertTrue(admits(tcp(machine, 80, host, 40000, [.syn, .ack])))
        XCTAssertTrue(admits(tcp(machine, 80, host, 40000, [.rst, .ack])))
        now += PeerFlowClass.tcpClosing.idleTimeout - 1
        XCTAssertTrue(admits(tcp(machine, 80, host, 40000, [.rst, .ack])), "a late segment within the grace")
        now += PeerFlowClass.tcpClosing.idleTimeout + 1
        assertDropped(tcp(machine, 80, host, 40000, .ack), .unsolicited)
    }

    func testAFINEachWayEndsAConnectionButAHalfCloseDoesNot() {
        send(tcp(host, 40000, machine, 80, .syn))
        XCTAssertTrue(admits(tcp(machine, 80, host, 40000, [.syn, .ack])))
        send(tcp(host, 40000, machine, 80, [.fin, .ack]))
        now += 600
        XCTAssertTrue(admits(tcp(machine, 80, host, 40000, .ack, payload: [1])), "the share may still send after our FIN")
        XCTAssertTrue(admits(tcp(machine, 80, host, 40000, [.fin, .ack])))
        now += PeerFlowClass.tcpClosing.idleTimeout + 1
        assertDropped(tcp(machine, 80, host, 40000, .ack), .unsolicited)
    }

    func testASYNOnTheSamePortsOpensTheConnectionAgain() {
        send(tcp(host, 40000, machine, 80, .syn))
        XCTAssertTrue(admits(tcp(machine, 80, host, 40000, [.rst, .ack])))
        now += PeerFlowClass.tcpClosing.idleTimeout - 1
        send(tcp(host, 40000, machine, 80, .syn))
        now += PeerFlowClass.tcpClosing.idleTimeout
        XCTAssertTrue(admits(tcp(machine, 80, host, 40000, [.syn, .ack])))
    }

    // MARK: Bounds and the summary

    func testTheTableHoldsAtMostItsSizeAndForgetsTheOldestFirst() {
        for port in UInt16(5000)..<5020 {
            send(udp(host, port, machine, 53))
            now += 1
        }
        XCTAssertEqual(filter.flowCount, 8)
        XCTAssertEqual(filter.evictedFlows, 12)
        XCTAssertTrue(admits(udp(machine, 53, host, 5019)))
        XCTAssertTrue(admits(udp(machine, 53, host, 5012)))
        assertDropped(udp(machine, 53, host, 5011), .unsolicited)
    }

    func testTheFlowClosestToExpiringMakesRoom() {
        send(tcp(host, 40000, machine, 80, .syn))
        XCTAssertTrue(admits(tcp(machine, 80, host, 40000, [.syn, .ack])))   // established: hours left
        now += 1
        for id in UInt16(1)...8 { send(echo(host, machine, request: true, identifier: id)) }   // seconds left
        XCTAssertEqual(filter.flowCount, 8)
        XCTAssertTrue(admits(tcp(machine, 80, host, 40000, .ack)), "the connection stayed; an echo flow went")
        assertDropped(echo(machine, host, request: false, identifier: 1), .unsolicited)
    }

    func testTheSummaryCountsEachReason() {
        XCTAssertEqual(filter.summary, "No packets from the share were dropped.")
        assertDropped(udp(stranger, 53, host, 5000), .notFromMachine)
        XCTAssertEqual(filter.summary, "1 packet from the share was dropped: 1 not from the machine IP.")
        assertDropped(udp(stranger, 53, host, 5001), .notFromMachine)
        assertDropped(udp(machine, 53, host, 5001), .unsolicited)
        XCTAssertEqual(filter.dropped, 3)
        XCTAssertEqual(filter.summary,
                       "3 packets from the share were dropped: 2 not from the machine IP, 1 for flows this host did not open.")
    }
}
