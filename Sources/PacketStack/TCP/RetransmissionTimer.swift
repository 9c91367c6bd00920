/// RFC 6298 retransmission timeout: SRTT/RTTVAR from samples (Karn's rule is the caller's:
/// no samples from retransmitted segments), exponential backoff, clamped to [min, max].
///
/// RTO min is 200 ms, not RFC 6298's 1 s: like Linux (TCP_RTO_MIN). The peer here is a
/// kernel at the far end of a low-latency tunnel; 1 s would stall every tail loss for a
/// second, while 200 ms still exceeds the peer's delayed-ACK timer (Linux: 40 ms–200 ms) so
/// spurious timeouts stay rare.
struct RetransmissionTimer {
    static let minRTO = 0.2
    static let maxRTO = 60.0
    static let initialRTO = 1.0
    static let granularity = 0.001

    private(set) var srtt: Double? = nil
    private(set) var rttvar = 0.0
    private(set) var baseRTO = RetransmissionTimer.initialRTO
    private(set) var backoffs = 0

    /// The timeout to arm now, including backoff.
    var rto: Double {
        var t = baseRTO
        for _ in 0..<min(backoffs, 16) { t *= 2 }
        return min(t, Self.maxRTO)
    }

    mutating func sample(_ r: Double) {
        let r = max(r, 0)
        if let s = srtt {
            rttvar = 0.75 * rttvar + 0.25 * abs(s - r)
            srtt = 0.875 * s + 0.125 * r
        } else {
            srtt = r
            rttvar = r / 2
        }
        baseRTO = min(max(srtt! + max(Self.granularity, 4 * rttvar), Self.minRTO), Self.maxRTO)
    }

    mutating func backoff() { backoffs += 1 }
    mutating func resetBackoff() { backoffs = 0 }
}
