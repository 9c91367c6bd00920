import PacketStack
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
    /// The machine-IP path: the packet counters of connect sessions that have closed (live ones are
    /// read from their stacks at scrape time, so the totals never go backwards).
    private(set) var closedSessionPackets = PacketTotals()

    mutating func streamOpened(_ service: OpenRequest.Service) { streamsOpened[service, default: 0] += 1 }

    mutating func packetSessionClosed(_ counters: StackCounters) { closedSessionPackets.add(counters) }

    /// Packets in and out of the agent's packet stacks, and those they dropped (malformed, not for
    /// the machine, over the flow caps, a full output queue: every reason in `StackCounters`).
    struct PacketTotals {
        var packetsIn = 0, packetsOut = 0, dropped = 0

        mutating func add(_ counters: StackCounters) {
            packetsIn += counters.packetsIn
            packetsOut += counters.packetsOut
            dropped += counters.dropped
        }
    }

    /// Everything, with the gauges the agent reads at scrape time; `liveSessions`: the counters of
    /// the packet sessions open now (attached or waiting for their peer to resume).
    func families(live: Bool, peersLive: Int, liveSessions: [StackCounters], loopBusySeconds: Double) -> [MetricFamily] {
        var packets = closedSessionPackets
        for counters in liveSessions { packets.add(counters) }
        return [
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
            MetricFamily("vshare_connect_packets_total", .counter,
                         help: "IP packets of connect peers through the machine IP: in from peers, out to them.",
                         samples: [.init(Double(packets.packetsIn), labels: [("direction", "in")]),
                                   .init(Double(packets.packetsOut), labels: [("direction", "out")])]),
            MetricFamily("vshare_connect_packets_dropped_total", .counter,
                         help: "Packets (datagrams included) the agent dropped on the machine-IP path: malformed, not for the machine, over the flow caps, or no room to queue them.",
                         value: Double(packets.dropped)),
            MetricFamily("vshare_relay_connections_total", .counter, help: "Connections made to the relay (the first and every reconnect).",
                         value: Double(relayConnections)),
            MetricFamily("vshare_event_loop_busy_seconds_total", .counter, help: "Time the event loop spent working rather than waiting.",
                         samples: [.init(loopBusySeconds, labels: [("loop", "share")])]),
        ]
    }
}
