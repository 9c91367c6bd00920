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
        let ports = quotaSnapshot()
        families.append(MetricFamily("vshare_open_connections", .gauge, help: "Client connections open now, by relay port.",
                                     samples: ports.map { .init(Double($0.open), labels: [("port", $0.port)]) }))
        families.append(MetricFamily("vshare_connections_refused_total", .counter,
                                     help: "Connections closed at accept: over the cap of open connections per client address.",
                                     samples: ports.map { .init(Double($0.refused), labels: [("port", $0.port)]) }))
        families.append(MetricFamily("vshare_guess_refusals_total", .counter,
                                     help: "Requests refused or slowed for guessing share names, SSH passwords or sign-in tokens.",
                                     value: Double(limiter.refusedCount)))
        families.append(MetricFamily("vshare_buffered_bytes", .gauge, help: "Bytes held for slow clients, against the memory budget.",
                                     value: Double(memoryBudget.inUse)))
        families.append(MetricFamily("vshare_memory_budget_bytes", .gauge, help: "The relay-wide budget for bytes held for slow clients.",
                                     value: Double(config.memoryBudget)))
        families.append(MetricFamily("vshare_tls_handshake_failures_total", .counter,
                                     help: "TLS handshakes that failed on the control and admin ports.",
                                     value: Double(TLSConnection.failedHandshakeCount)))
        families.append(MetricFamily("vshare_event_loop_busy_seconds_total", .counter,
                                     help: "Time each event loop spent working rather than waiting (its rate is the loop's load, 0 to 1).",
                                     samples: group.loops.map { .init($0.busySeconds, labels: [("loop", $0.name)]) }))
        return PrometheusText.render(families)
    }
}
