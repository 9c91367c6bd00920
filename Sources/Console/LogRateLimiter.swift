/// Keeps a flood of identical lines from drowning a log: per line (or per `kind` the caller
/// names), the first `burst` in each `interval` go out; the rest are counted, and once the interval
/// is over one summary says how many were held back (`… repeated 970 times in 10 s`). A relay
/// under attack prints one refusal per connection, and a full descriptor table one "cannot accept"
/// per wake-up: thousands of lines a second that hide everything else and fill disks. Pure: the
/// caller passes the time and writes what it returns.
public struct LogRateLimiter: Sendable {
    private struct Tally: Sendable {
        var line: String
        var started: Double
        var shown = 0
        var held = 0
    }

    public let burst: Int
    public let interval: Double
    /// Kinds tracked at once; beyond it new kinds are let through unthrottled (they are distinct
    /// lines: the table full means variety, not a flood of one line).
    public let maxKinds: Int
    private var tallies: [String: Tally] = [:]

    public init(burst: Int = 5, interval: Double = 10, maxKinds: Int = 256) {
        self.burst = burst
        self.interval = interval
        self.maxKinds = maxKinds
    }

    /// What to write now for one occurrence of `line`: the line itself when it is within its
    /// burst, preceded by any summaries that came due; just the due summaries when it is held.
    public mutating func admit(_ line: String, kind: String? = nil, now: Double) -> [String] {
        var out = due(now: now)
        let key = kind ?? line
        if var tally = tallies[key] {
            if tally.shown < burst {
                tally.shown += 1
                out.append(line)
            } else {
                tally.held += 1
            }
            tally.line = line
            tallies[key] = tally
        } else {
            if tallies.count < maxKinds { tallies[key] = Tally(line: line, started: now, shown: 1) }
            out.append(line)
        }
        return out
    }

    /// Summaries of kinds whose interval is over and that held lines back; those kinds start a new
    /// interval, and kinds that went quiet are forgotten. Call it now and then so the last summary
    /// of a flood that stopped is not left unsaid.
    public mutating func due(now: Double) -> [String] {
        var out: [String] = []
        for (key, tally) in tallies where now - tally.started >= interval {
            if tally.held > 0 {
                out.append("\(tally.line) … repeated \(tally.held) times in \(Self.seconds(now - tally.started)) s")
                tallies[key] = Tally(line: tally.line, started: now, shown: burst)
            } else {
                tallies[key] = nil
            }
        }
        return out
    }

    private static func seconds(_ value: Double) -> String { String(Int(value.rounded())) }
}
