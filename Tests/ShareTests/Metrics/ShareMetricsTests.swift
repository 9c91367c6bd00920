import PacketStack
import Wire
import XCTest
@testable import Share

/// The machine-IP path's counters: closed sessions' totals plus the live ones', read at scrape time.
final class ShareMetricsTests: XCTestCase {
    private func counters(in packetsIn: Int, out packetsOut: Int, noFlow: Int = 0, malformed: Int = 0) -> StackCounters {
        var c = StackCounters()
        c.packetsIn = packetsIn
        c.packetsOut = packetsOut
        c.noFlow = noFlow
        c.malformed = malformed
        return c
    }

    private func sample(_ families: [MetricFamily], _ name: String, direction: String? = nil) -> Double? {
        families.first { $0.name == name }?.samples.first { sample in
            direction.map { d in sample.labels.contains { $0.name == "direction" && $0.value == d } } ?? true
        }?.value
    }

    func testClosedAndLiveSessionsAddUp() {
        var metrics = ShareMetrics()
        metrics.packetSessionClosed(counters(in: 10, out: 7, noFlow: 2))
        let families = metrics.families(live: true, peersLive: 1, liveSessions: [counters(in: 5, out: 4, malformed: 1)],
                                        loopBusySeconds: 0)
        XCTAssertEqual(sample(families, "vshare_connect_packets_total", direction: "in"), 15)
        XCTAssertEqual(sample(families, "vshare_connect_packets_total", direction: "out"), 11)
        XCTAssertEqual(sample(families, "vshare_connect_packets_dropped_total"), 3)
    }

    /// A session that closes moves from the live list to the totals: the counters never go back.
    func testASessionThatClosesKeepsItsCounts() {
        var metrics = ShareMetrics()
        let session = counters(in: 8, out: 6, noFlow: 1)
        let before = metrics.families(live: true, peersLive: 1, liveSessions: [session], loopBusySeconds: 0)
        metrics.packetSessionClosed(session)
        let after = metrics.families(live: true, peersLive: 0, liveSessions: [], loopBusySeconds: 0)
        for direction in ["in", "out"] {
            XCTAssertEqual(sample(before, "vshare_connect_packets_total", direction: direction),
                           sample(after, "vshare_connect_packets_total", direction: direction))
        }
        XCTAssertEqual(sample(after, "vshare_connect_packets_total", direction: "in"), 8)
        XCTAssertEqual(sample(before, "vshare_connect_packets_dropped_total"), 1)
        XCTAssertEqual(sample(after, "vshare_connect_packets_dropped_total"), 1)
    }
}
