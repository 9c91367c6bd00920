import TestSupport
import Transport
import TransportTesting
import TunDevice
import TunDeviceTesting
import Wire
import XCTest
@testable import Connect

/// The TUN pump sends on channel 0 only: anything on another channel is missing here.
private extension FakeTunnel {
    var sent: [[UInt8]] { datagrams(on: 0) }
}

final class TunPumpTests: XCTestCase {
    private var loop: EventLoop!
    private var device: FakeTun!
    private var tunnel: FakeTunnel!
    private var pump: TunPump!

    override func setUpWithError() throws {
        loop = try EventLoop(name: "tun-pump-test")
        device = FakeTun(mtu: 1500)
        tunnel = FakeTunnel(loop: loop)
        pump = try TunPump(device: device, loop: loop, capture: nil, batchSize: 4)
        pump.attach(tunnel)
    }

    override func tearDown() {
        pump.close()
        pump = nil
        loop = nil
    }

    /// Distinct packets: packet i is i+1 bytes, each byte i.
    private func packets(_ n: Int, from first: Int = 0) -> [[UInt8]] {
        (first..<(first + n)).map { [UInt8](repeating: UInt8(truncatingIfNeeded: $0), count: $0 % 1400 + 1) }
    }

    func testPacketsFromTheDeviceReachTheTunnelInOrder() {
        let sent = packets(11)
        sent.forEach(device.inject)
        pump.handleIO(events: IOInterest.read)
        XCTAssertEqual(tunnel.sent, sent)
        XCTAssertEqual(device.pendingReads, 0)
        XCTAssertEqual(device.reads, 3, "batches of 4: 4 + 4 + 3")
    }

    /// The pump is driven by the device's readiness on a real event loop.
    func testTheEventLoopRunsThePumpWhenTheDeviceIsReadable() {
        let sent = packets(9)
        let (loop, tunnel) = (self.loop!, self.tunnel!)
        tunnel.onDatagramSent = { [unowned loop, unowned tunnel] in if tunnel.sent.count == sent.count { loop.stop() } }
        sent.forEach(device.inject)
        loop.schedule(after: 5) { [unowned loop] in loop.stop() }   // a failing test ends too
        loop.run()
        XCTAssertEqual(tunnel.sent, sent)
    }

    func testAFullTunnelStopsReadingUntilItDrains() {
        let sent = packets(12)
        sent.forEach(device.inject)
        tunnel.datagramRoom = 2
        pump.handleIO(events: IOInterest.read)
        XCTAssertEqual(tunnel.sent, Array(sent[0..<2]))
        XCTAssertTrue(tunnel.waitsForDatagramRoom)
        XCTAssertEqual(device.reads, 1, "the device is not read while the tunnel has no room")
        XCTAssertEqual(device.pendingReads, 8)

        pump.handleIO(events: IOInterest.read)   // a stray readiness event changes nothing
        XCTAssertEqual(tunnel.sent.count, 2)
        XCTAssertEqual(device.reads, 1)

        tunnel.drainDatagrams(room: 3)
        XCTAssertEqual(tunnel.sent, Array(sent[0..<5]))
        tunnel.drainDatagrams()
        XCTAssertEqual(tunnel.sent, sent, "resumed where it stopped, nothing lost or reordered")
        XCTAssertEqual(device.pendingReads, 0)
    }

    func testWithoutATunnelPacketsAreDroppedAndANewTunnelResumes() {
        pump.attach(nil)
        packets(6).forEach(device.inject)
        pump.handleIO(events: IOInterest.read)
        XCTAssertEqual(device.pendingReads, 0, "read and dropped, as on an unplugged link")
        XCTAssertTrue(tunnel.sent.isEmpty)

        let next = FakeTunnel(loop: loop)
        pump.attach(next)
        let later = packets(3, from: 100)
        later.forEach(device.inject)
        pump.handleIO(events: IOInterest.read)
        XCTAssertEqual(next.sent, later)
    }

    /// The reconnect bug: the tunnel was full (reading paused), then the link dropped and came back.
    /// Reading must be re-armed on the event loop, or the TUN is never read again.
    func testAReconnectWhileTheTunnelWasFullReArmsReading() throws {
        for dropFirst in [false, true] {
            if dropFirst { tearDown(); try setUpWithError() }
            packets(12).forEach(device.inject)
            tunnel.datagramRoom = 2
            pump.handleIO(events: IOInterest.read)
            XCTAssertTrue(tunnel.waitsForDatagramRoom)
            XCTAssertEqual(pump.interest, IOInterest.none, "not read while the tunnel is full")

            if dropFirst { pump.attach(nil) }   // the link dropped: read and dropped, as unplugged
            let next = FakeTunnel(loop: loop)
            pump.attach(next)
            XCTAssertEqual(pump.interest, IOInterest.read, "reading re-armed (drop first: \(dropFirst))")
            XCTAssertEqual(device.pendingReads, 0)

            // Only the event loop reads now: packets routed in later must reach the new tunnel.
            let later = packets(5, from: 200)
            let (loop, stopAt) = (self.loop!, later.count)
            next.onDatagramSent = { [unowned loop, unowned next] in if next.sent.suffix(stopAt) == later[...] { loop.stop() } }
            later.forEach(device.inject)
            loop.schedule(after: 2) { [unowned loop] in loop.stop() }   // a failing test ends too
            loop.run()
            XCTAssertEqual(next.sent.suffix(stopAt).map(\.first), later.map(\.first),
                           "the TUN is read again (drop first: \(dropFirst))")
        }
    }

    func testPacketsFromTheTunnelAreWrittenThroughWhileTheDeviceHasRoom() {
        let received = packets(5)
        for p in received { p.withUnsafeBytes { pump.deliver($0) } }
        XCTAssertEqual(device.written, received)
        XCTAssertEqual(device.singleWrites, 5)
        XCTAssertTrue(device.batchWrites.isEmpty)
    }

    func testAFullDeviceGetsTheWaitingPacketsInOneBatchInOrder() {
        device.writeRoom = 1
        let received = packets(4)
        for p in received { p.withUnsafeBytes { pump.deliver($0) } }
        XCTAssertEqual(device.written, [received[0]])
        XCTAssertEqual(pump.droppedToTun, 0, "kept, not dropped")

        device.writeRoom = nil
        pump.handleIO(events: IOInterest.write)
        XCTAssertEqual(device.written, received)
        XCTAssertEqual(device.batchWrites, [3], "the three that waited went in one batched write")

        let after = packets(2, from: 50)
        for p in after { p.withUnsafeBytes { pump.deliver($0) } }
        XCTAssertEqual(device.written, received + after, "written through again once nothing waits")
    }

    func testWaitingPacketsAreBoundedAndAPartialBatchResumes() {
        device.writeRoom = 0
        let received = packets(6)
        for p in received { p.withUnsafeBytes { pump.deliver($0) } }
        XCTAssertEqual(pump.droppedToTun, 2, "the batch holds 4; the rest are dropped and counted")

        device.writeRoom = 3
        pump.handleIO(events: IOInterest.write)
        XCTAssertEqual(device.written, Array(received[0..<3]))
        device.writeRoom = nil
        pump.handleIO(events: IOInterest.write)
        XCTAssertEqual(device.written, Array(received[0..<4]))
        XCTAssertEqual(device.batchWrites, [3, 1])
    }

    /// What the pump sends toward the share opens flows in its gate: the kernel's SYN lets the
    /// SYN-ACK in; a SYN never sent leaves its answer out.
    func testPacketsSentTowardTheShareOpenFlowsInTheGate() throws {
        pump.close()
        device = FakeTun(mtu: 1500)
        let gate = PeerPacketGate(machine: KernelPackets.machine, tunAddress: KernelPackets.peer)
        pump = try TunPump(device: device, loop: loop, capture: nil, gate: gate, batchSize: 4)
        pump.attach(tunnel)
        device.inject(KernelPackets.syn)
        pump.handleIO(events: IOInterest.read)
        XCTAssertEqual(tunnel.sent, [KernelPackets.syn])

        func synAck(toPort port: UInt16) -> [UInt8] {
            var answer = [UInt8](repeating: 0, count: 40)
            answer.withUnsafeMutableBytes { p in
                let tcp = TCPHeader(sourcePort: 8080, destinationPort: port, sequenceNumber: 1000,
                                    acknowledgmentNumber: 0x1b0f_9086, flags: [.syn, .ack], window: 65535)
                try! tcp.emit(into: UnsafeMutableRawBufferPointer(rebasing: p[20...]), source: KernelPackets.machine,
                              destination: KernelPackets.peer)
                try! IPv4Header(source: KernelPackets.machine, destination: KernelPackets.peer,
                                protocolNumber: IPv4Header.protocolTCP, payloadLength: 20).emit(into: p)
            }
            return answer
        }
        XCTAssertTrue(synAck(toPort: 50640).withUnsafeBytes { gate.admitsInbound($0) })
        XCTAssertFalse(synAck(toPort: 50641).withUnsafeBytes { gate.admitsInbound($0) })
        XCTAssertEqual(gate.dropped, 1)
    }
}
