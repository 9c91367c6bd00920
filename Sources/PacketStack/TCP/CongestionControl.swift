/// NewReno congestion control (RFC 5681 + RFC 6582), in bytes. Slow start with appropriate
/// byte counting (RFC 3465, L = 2 MSS); congestion avoidance +1 MSS per cwnd of acked bytes;
/// fast retransmit on the 3rd duplicate ACK; fast recovery with window inflation, partial-ACK
/// retransmission and deflation; RTO collapses cwnd to one segment.
struct NewReno {
    var mss: Int
    private(set) var cwnd: Int
    private(set) var ssthresh = Int.max
    private(set) var inRecovery = false
    /// Highest stream offset sent when recovery began (RFC 6582 "recover").
    private(set) var recover = -1
    private var avoidanceCredit = 0

    init(mss: Int) {
        self.mss = mss
        cwnd = NewReno.initialWindow(mss: mss)
    }

    /// RFC 6928's 10 segments, but at least 64 KiB: the segments here can be small (MSS 536
    /// from a peer without the option) and the path is a low-latency tunnel.
    static func initialWindow(mss: Int) -> Int { max(10 * mss, 65536) }

    enum AckAction { case none, retransmitFirst }

    /// New data acknowledged: `acked` bytes, the acknowledgment now at `ackOffset`,
    /// `flight` bytes still outstanding after it.
    mutating func onAck(acked: Int, ackOffset: Int, flight: Int) -> AckAction {
        if inRecovery {
            if ackOffset >= recover {
                // Full acknowledgment: leave recovery (RFC 6582 §3.2 step 3, option 1).
                inRecovery = false
                cwnd = min(ssthresh, max(flight, mss) + mss)
                return .none
            }
            // Partial acknowledgment: retransmit the next hole, deflate by the amount acked.
            cwnd = max(cwnd - acked + (acked >= mss ? mss : 0), mss)
            return .retransmitFirst
        }
        if cwnd < ssthresh {
            cwnd += min(acked, 2 * mss)
        } else {
            avoidanceCredit += acked
            if avoidanceCredit >= cwnd {
                avoidanceCredit -= cwnd
                cwnd += mss
            }
        }
        return .none
    }

    /// A duplicate ACK number `count` (1, 2, 3, ...). True: fast-retransmit the first segment now.
    mutating func onDuplicateAck(count: Int, flight: Int, highestSent: Int, ackOffset: Int) -> Bool {
        if inRecovery {
            cwnd += mss   // inflation: a segment left the network
            return false
        }
        // RFC 6582 §3.2 step 1: only if the ACK is beyond the previous recovery point.
        guard count == 3, ackOffset > recover else { return false }
        ssthresh = max(flight / 2, 2 * mss)
        cwnd = ssthresh + 3 * mss
        recover = highestSent
        inRecovery = true
        return true
    }

    mutating func onTimeout(flight: Int, highestSent: Int) {
        ssthresh = max(flight / 2, 2 * mss)
        cwnd = mss
        inRecovery = false
        recover = highestSent
        avoidanceCredit = 0
    }
}
