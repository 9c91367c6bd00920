import XCTest
@testable import PacketStack

/// A peer model sends and receives a few MB through a network that drops, duplicates and
/// reorders segments and ACKs (seeded): the stack must deliver exactly the bytes, both ways.
final class LossyTransferTests: XCTestCase {
    struct Net {
        var rng: SplitMix
        var drop = 0.05, dup = 0.03
        mutating func chance(_ p: Double) -> Bool { Double(rng.next() % 10_000) < p * 10_000 }
        /// What of `packets` arrives, in what order.
        mutating func carry(_ packets: [[UInt8]]) -> [[UInt8]] {
            var out: [[UInt8]] = []
            for p in packets where !chance(drop) {
                out.append(p)
                if chance(dup) { out.append(p) }
            }
            // Reorder: swap some neighbours.
            if out.count > 1 {
                for i in 0..<(out.count - 1) where chance(0.1) { out.swapAt(i, i + 1 + Int(rng.next() % UInt64(min(3, out.count - i - 1)))) }
            }
            return out
        }
    }

    func testUploadThroughLossyNetwork() { upload(seed: 1) }
    func testUploadThroughLossyNetworkAgain() { upload(seed: 2) }
    func testDownloadThroughLossyNetwork() { download(seed: 3) }
    func testDownloadThroughLossyNetworkAgain() { download(seed: 4) }

    func upload(seed: UInt64) {
        let h = Harness(seed: seed) { $0.mtu = 1500; $0.receiveBuffer = 64 * 1024 }
        let (flow, iss, synAck) = h.connect(mss: 1460, wscale: 2)
        let shift = Int(synAck.tcp!.windowScale!)
        let data = bytes(2_000_000, seed: seed)
        var net = Net(rng: SplitMix(seed: seed &* 7919))
        var una = 0, nxt = 0, wnd = 65535
        var delivered: [UInt8] = []
        var rounds = 0
        while una < data.count && rounds < 20_000 {
            rounds += 1
            h.now += 0.001
            var packets: [[UInt8]] = []
            while nxt < data.count && nxt - una < min(wnd, 30 * 1460) {
                let len = min(1460, data.count - nxt, una + wnd - nxt)
                if len <= 0 { break }
                packets.append(h.tcp(seq: 1001 &+ UInt32(truncatingIfNeeded: nxt), ack: iss &+ 1, flags: .ack, payload: Array(data[nxt..<(nxt + len)])))
                nxt += len
            }
            for p in net.carry(packets) { h.send(p) }
            for e in h.events() {
                if case .tcpReceived(let f) = e {
                    // The shell does not always take everything at once.
                    delivered += h.read(f, max: net.chance(0.3) ? 3000 : .max)
                }
            }
            if h.stack.receivedCount(flow) > 0 && net.chance(0.5) { delivered += h.read(flow) }
            var progressed = false
            for o in net.carry(h.output().map(\.raw)).map({ Harness.parse($0) }) where o.tcp != nil {
                let acked = Int(o.tcp!.acknowledgmentNumber &- 1001)
                if acked > una { una = acked; progressed = true }
                wnd = Int(o.tcp!.window) << shift
            }
            if !progressed && nxt > una && rounds % 5 == 0 { nxt = una }   // the peer's "RTO": go back
            if wnd == 0 && rounds % 5 == 0 { delivered += h.read(flow) }
        }
        delivered += h.read(flow)
        XCTAssertEqual(delivered.count, data.count)
        XCTAssertTrue(delivered == data, "bytes differ")
        XCTAssertLessThanOrEqual(h.stack.receivedCount(flow), 64 * 1024)
    }

    func download(seed: UInt64) {
        let h = Harness(seed: seed) { $0.mtu = 1500; $0.sendBuffer = 256 * 1024 }
        let (flow, iss, _) = h.connect(mss: 1460, wscale: 0, window: 65535)
        let data = bytes(2_000_000, seed: seed)
        var net = Net(rng: SplitMix(seed: seed &* 104_729))
        var written = 0
        var received: [UInt8] = []
        var ooo: [Int: [UInt8]] = [:]
        var rounds = 0
        while received.count < data.count && rounds < 50_000 {
            rounds += 1
            h.now += 0.001
            if written < data.count {
                written += data[written...].withUnsafeBytes { h.stack.writeTCP(flow, $0, now: h.now) }
            }
            let out = h.output()
            if out.isEmpty, let d = h.stack.nextDeadline {
                h.now = max(h.now, d)
                h.stack.advance(now: h.now)
                continue
            }
            var acks: [[UInt8]] = []
            for seg in net.carry(out.map(\.raw)).map({ Harness.parse($0) }) where !seg.payload.isEmpty {
                let off = Int(seg.seq &- (iss &+ 1))
                if off == received.count {
                    received += seg.payload
                    while let next = ooo.removeValue(forKey: received.count) { received += next }
                } else if off > received.count {
                    ooo[off] = seg.payload
                } else if off + seg.payload.count > received.count {
                    received += seg.payload[(received.count - off)...]
                    while let next = ooo.removeValue(forKey: received.count) { received += next }
                }
                acks.append(h.tcp(seq: 1001, ack: iss &+ 1 &+ UInt32(received.count), flags: .ack, window: 65535))
            }
            for a in net.carry(acks) { h.send(a) }
            _ = h.events()
        }
        XCTAssertEqual(received.count, data.count)
        XCTAssertTrue(received == data, "bytes differ")
        XCTAssertGreaterThan(h.stack.counters.packetsOut, data.count / 1460 + 50, "losses were repaired by retransmission")
    }
}
