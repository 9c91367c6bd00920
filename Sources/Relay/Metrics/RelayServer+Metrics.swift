import Transport
import Wire

extension RelayServer {
    /// The body of `GET /metrics`: the relay's counters, and the gauges other parts own, read now.
    func metricsText() -> String {
        var families = metrics.counterFamilies()
        families.append(MetricFamily("vshare_shares_live", .gauge, help: "Shares live now (including those waiting for their agent to reconnect).",
                                     value: Double(registry.count)))
        families.append(MetricFamily("vshare_log_rows_dropped_total", .counter,
                                     help: "Access-log and audit rows dropped because the disk could not keep up.",
                                     value: Double(store?.droppedLogRows ?? 0)))
        families.append(MetricFamily("vshare_tls_handshake_failures_total", .counter,
                                     help: "TLS handshakes that failed on the control and admin ports.",
                                     value: Double(TLSConnection.failedHandshakeCount)))
        families.append(MetricFamily("vshare_event_loop_busy_seconds_total", .counter,
                                     help: "Time each event loop spent working rather than waiting (its rate is the loop's load, 0 to 1).",
                                     samples: group.loops.map { .init($0.busySeconds, labels: [("loop", $0.name)]) }))
        return PrometheusText.render(families)
    }
}
