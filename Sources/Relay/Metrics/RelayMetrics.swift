import Store
import Synchronization
import Wire

/// What the relay has done since it started, for `GET /metrics` on the admin address: counters the
/// loops bump as things happen (atomics, so no loop ever waits on a scrape) and gauges read from
/// their owners at scrape time (`RelayMetrics+Scrape.swift`).
final class RelayMetrics: Sendable {
    private let sharesCreated = MetricCounter()
    private let sharesEnded = MetricCounter.array(Store.ShareEndReason.allCases.count)
    /// HTTP answers by status class: index 0 is 1xx ... 4 is 5xx.
    private let responses = MetricCounter.array(5)
    /// Bytes from public clients towards shares, and back.
    private let bytesIn = MetricCounter()
    private let bytesOut = MetricCounter()
    private let connectSessionsOpened = MetricCounter()
    private let connectSessionsLive = MetricCounter()
    private let inFlight = MetricCounter()

    func shareCreated() { sharesCreated.add(1) }

    func shareEnded(_ reason: Store.ShareEndReason) {
        sharesEnded[Store.ShareEndReason.allCases.firstIndex(of: reason)!].add(1)
    }

    /// One answer, with the bytes its line in the access log counts.
    func answered(status: Int, bytesOut outbound: Int) {
        let index = min(max(status / 100 - 1, 0), 4)
        responses[index].add(1)
        if outbound > 0 { bytesOut.add(outbound) }
    }

    /// Bytes a public client sent on toward its share (heads, bodies, an upgraded connection's bytes).
    func received(bytes: Int) { bytesIn.add(bytes) }

    /// A request was forwarded to a share / its response is over (or its connection went).
    func requestStarted() { inFlight.add(1) }
    func requestsFinished(_ count: Int = 1) { inFlight.add(-count) }
    var requestsInFlight: Int { inFlight.value }

    func sessionOpened() {
        connectSessionsOpened.add(1)
        connectSessionsLive.add(1)
    }

    func sessionClosed() { connectSessionsLive.add(-1) }

    /// The counters as metric families; `RelayMetrics+Scrape` adds what other parts of the relay own.
    func counterFamilies() -> [MetricFamily] {
        [
            MetricFamily("vshare_shares_created_total", .counter, help: "Shares created since the relay started.",
                         value: Double(sharesCreated.value)),
            MetricFamily("vshare_shares_ended_total", .counter, help: "Shares ended since the relay started, by why they ended.",
                         samples: Store.ShareEndReason.allCases.enumerated().map { index, reason in
                             .init(Double(sharesEnded[index].value), labels: [("reason", reason.rawValue)])
                         }),
            MetricFamily("vshare_http_requests_total", .counter, help: "HTTP requests answered on public URLs, by status class.",
                         samples: (0..<5).map { index in
                             .init(Double(responses[index].value), labels: [("class", "\(index + 1)xx")])
                         }),
            MetricFamily("vshare_http_requests_in_flight", .gauge, help: "HTTP requests forwarded whose response is not over yet.",
                         value: Double(inFlight.value)),
            MetricFamily("vshare_http_bytes_total", .counter, help: "Bytes through public URLs: in, what clients sent on toward shares; out, the responses the access log counts.",
                         samples: [.init(Double(bytesIn.value), labels: [("direction", "in")]),
                                   .init(Double(bytesOut.value), labels: [("direction", "out")])]),
            MetricFamily("vshare_connect_sessions_total", .counter, help: "Connect sessions joined since the relay started.",
                         value: Double(connectSessionsOpened.value)),
            MetricFamily("vshare_connect_sessions_live", .gauge, help: "Connect sessions joined and not yet closed.",
                         value: Double(connectSessionsLive.value)),
        ]
    }
}

/// One atomic count in a box: `Atomic` cannot be copied, so arrays of counters hold these.
final class MetricCounter: Sendable {
    private let count = Atomic<Int>(0)
    func add(_ amount: Int) { count.add(amount, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }

    static func array(_ count: Int) -> [MetricCounter] { (0..<count).map { _ in MetricCounter() } }
}
