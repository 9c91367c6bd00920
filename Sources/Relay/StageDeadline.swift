import Transport

/// A connection's one deadline: which stage it is for (`HTTPProxyTimeouts.Stage`) and when it
/// passes, on a single loop timer. Moving the deadline later — each read of a body, each byte of an
/// upgraded connection — only stores a time: when the timer fires early it schedules itself again
/// for the rest, so a busy connection costs one timer-heap insertion per period, not one per read.
/// Confined to its loop.
final class StageDeadline {
    private(set) var stage: HTTPProxyTimeouts.Stage?
    private let loop: EventLoop
    private let timeouts: HTTPProxyTimeouts
    private var deadline = Double.infinity
    private var timer: UInt64?
    private var timerFiresAt = Double.infinity
    /// Called on the loop when the deadline of `stage` passed (the deadline is then cleared).
    var onExpiry: ((HTTPProxyTimeouts.Stage) -> Void)?

    init(loop: EventLoop, timeouts: HTTPProxyTimeouts) {
        self.loop = loop
        self.timeouts = timeouts
    }

    /// Runs the deadline of `next` from now; kept as it is when that stage's already runs, unless `restart`.
    func set(_ next: HTTPProxyTimeouts.Stage, restart: Bool = false) {
        if next == stage && !restart { return }
        stage = next
        deadline = MonotonicClock.now() + timeouts.seconds(for: next)
        if timer == nil || timerFiresAt > deadline { schedule(at: deadline) }
    }

    /// No deadline runs (the timer, if armed, finds nothing to do when it fires).
    func clear() {
        stage = nil
        deadline = .infinity
    }

    /// Clears the deadline and gives the timer back to the loop (the connection ended).
    func stop() {
        clear()
        onExpiry = nil
        if let timer { loop.cancelTimer(timer) }
        timer = nil
    }

    private func schedule(at time: Double) {
        if let timer { loop.cancelTimer(timer) }
        timerFiresAt = time
        timer = loop.schedule(after: max(0, time - MonotonicClock.now())) { [weak self] in
            guard let self else { return }
            self.timer = nil
            guard let stage = self.stage else { return }
            if MonotonicClock.now() < self.deadline { return self.schedule(at: self.deadline) }
            self.clear()
            self.onExpiry?(stage)
        }
    }
}
