import XCTest
import Store
import Wire
@testable import Relay

final class RelayMetricsTests: XCTestCase {
    private func sample(_ families: [MetricFamily], _ name: String, _ label: String? = nil) -> Double? {
        families.first { $0.name == name }?.samples.first { label == nil || $0.labels.contains { $0.value == label } }?.value
    }

    func testCountersAndGauges() {
        let metrics = RelayMetrics()
        metrics.shareCreated()
        metrics.shareCreated()
        metrics.shareEnded(.expiredFromWeb)
        metrics.answered(status: 200, bytesOut: 5000)
        metrics.received(bytes: 100)
        metrics.answered(status: 404, bytesOut: 10)
        metrics.answered(status: 503, bytesOut: 0)
        metrics.answered(status: 99, bytesOut: 0)  // out of range: counted as 1xx rather than lost
        metrics.sessionOpened()
        metrics.sessionOpened()
        metrics.sessionClosed()

        let families = metrics.counterFamilies()
        XCTAssertEqual(sample(families, "vshare_shares_created_total"), 2)
        XCTAssertEqual(sample(families, "vshare_shares_ended_total", "expired-web"), 1)
        XCTAssertEqual(sample(families, "vshare_shares_ended_total", "expired"), 0)
        XCTAssertEqual(sample(families, "vshare_http_requests_total", "2xx"), 1)
        XCTAssertEqual(sample(families, "vshare_http_requests_total", "4xx"), 1)
        XCTAssertEqual(sample(families, "vshare_http_requests_total", "5xx"), 1)
        XCTAssertEqual(sample(families, "vshare_http_requests_total", "1xx"), 1)
        XCTAssertEqual(sample(families, "vshare_http_bytes_total", "in"), 100)
        XCTAssertEqual(sample(families, "vshare_http_bytes_total", "out"), 5010)
        XCTAssertEqual(sample(families, "vshare_connect_sessions_total"), 2)
        XCTAssertEqual(sample(families, "vshare_connect_sessions_live"), 1)
        // Every reason and class is present from the start, so a dashboard's rate() has a baseline.
        XCTAssertEqual(families.first { $0.name == "vshare_shares_ended_total" }?.samples.count, Store.ShareEndReason.allCases.count)
    }
}
