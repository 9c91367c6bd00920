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
        return PrometheusText.render(families)
    }
}
