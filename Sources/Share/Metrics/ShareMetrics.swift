import Wire

/// What the share agent has done since it started, for `vshare share --metrics ADDR:PORT`.
/// Plain counters: the agent runs on one event loop, and the scrape is answered on that loop.
struct ShareMetrics {
    /// Streams the relay opened to the machine, by service (`http`, `https`, `ssh`, `tcp`).
    private(set) var streamsOpened: [OpenRequest.Service: Int] = [:]
    var streamsRefused = 0
    var dialFailures = 0
    var peersJoined = 0
    /// Pairings that did not prove the connect code (wrong codes or guesses).
    var wrongCodes = 0
    var relayConnections = 0

    mutating func streamOpened(_ service: OpenRequest.Service) { streamsOpened[service, default: 0] += 1 }

    /// Everything, with the gauges the agent reads at scrape time.
    func families(live: Bool, peersLive: Int, loopBusySeconds: Double) -> [MetricFamily] {
        [
            MetricFamily("vshare_share_live", .gauge, help: "1 while the relay holds this agent's share.", value: live ? 1 : 0),
            MetricFamily("vshare_share_streams_total", .counter, help: "Streams the relay opened to the machine, by service.",
                         samples: OpenRequest.Service.allCases.map { service in
                             .init(Double(streamsOpened[service] ?? 0), labels: [("service", service.rawValue)])
                         }),
            MetricFamily("vshare_share_streams_refused_total", .counter, help: "Streams refused by the agent's policy or connect scope.",
                         value: Double(streamsRefused)),
            MetricFamily("vshare_share_dial_failures_total", .counter, help: "Connections to the machine that could not be made.",
                         value: Double(dialFailures)),
            MetricFamily("vshare_connect_sessions_total", .counter, help: "Connect peers that paired with this agent.",
                         value: Double(peersJoined)),
            MetricFamily("vshare_connect_sessions_live", .gauge, help: "Connect peers in session now.", value: Double(peersLive)),
            MetricFamily("vshare_connect_wrong_codes_total", .counter, help: "Pairings that did not prove the connect code.",
                         value: Double(wrongCodes)),
            MetricFamily("vshare_relay_connections_total", .counter, help: "Connections made to the relay (the first and every reconnect).",
                         value: Double(relayConnections)),
            MetricFamily("vshare_event_loop_busy_seconds_total", .counter, help: "Time the event loop spent working rather than waiting.",
                         samples: [.init(loopBusySeconds, labels: [("loop", "share")])]),
        ]
    }
}
