import XCTest
@testable import Wire

final class PrometheusTextTests: XCTestCase {
    func testFamiliesWithAndWithoutLabels() {
        let text = PrometheusText.render([
            MetricFamily("vshare_shares_live", .gauge, help: "Shares live now.", value: 3),
            MetricFamily("vshare_http_requests_total", .counter, help: "HTTP requests answered, by status class.", samples: [
                .init(10, labels: [("class", "2xx")]),
                .init(2, labels: [("class", "5xx")]),
            ]),
        ])
        XCTAssertEqual(text, """
        # HELP vshare_shares_live Shares live now.
        # TYPE vshare_shares_live gauge
        vshare_shares_live 3
        # HELP vshare_http_requests_total HTTP requests answered, by status class.
        # TYPE vshare_http_requests_total counter
        vshare_http_requests_total{class="2xx"} 10
        vshare_http_requests_total{class="5xx"} 2

        """)
    }

    func testEscaping() {
        let text = PrometheusText.render([
            MetricFamily("m", .gauge, help: "back\\slash\nnewline \"quotes stay\"", samples: [
                .init(1, labels: [("path", "a\"b\\c\nd"), ("x", "")]),
            ]),
        ])
        XCTAssertTrue(text.contains(#"# HELP m back\\slash\nnewline "quotes stay""#), text)
        XCTAssertTrue(text.contains(#"m{path="a\"b\\c\nd",x=""} 1"#), text)
    }

    func testNumbers() {
        XCTAssertEqual(PrometheusText.number(0), "0")
        XCTAssertEqual(PrometheusText.number(12_345_678_901), "12345678901")
        XCTAssertEqual(PrometheusText.number(0.25), "0.25")
        XCTAssertEqual(PrometheusText.number(-3), "-3")
        XCTAssertEqual(PrometheusText.number(.infinity), "+Inf")
        XCTAssertEqual(PrometheusText.number(-.infinity), "-Inf")
        XCTAssertEqual(PrometheusText.number(.nan), "NaN")
        XCTAssertEqual(PrometheusText.number(1e20), "1e+20")
    }

    func testNames() {
        XCTAssertTrue(PrometheusText.isValidName("vshare_bytes_total"))
        XCTAssertTrue(PrometheusText.isValidName("a:b_c9"))
        XCTAssertFalse(PrometheusText.isValidName("9a"))
        XCTAssertFalse(PrometheusText.isValidName(""))
        XCTAssertFalse(PrometheusText.isValidName("a-b"))
    }
}
