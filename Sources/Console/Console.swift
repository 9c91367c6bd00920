import Glibc
import Synchronization

/// One limiter per stream, so a summary goes where its lines went.
private let statusThrottle = Mutex(LogRateLimiter())
private let errorThrottle = Mutex(LogRateLimiter())

/// User-facing output in the seed's style (`==> default: ...` headlines, indented details),
/// written with one `write` per line so lines from several threads never interleave.
public enum Console {
    /// `==> <machine>: <text>`
    public static func headline(_ machine: String, _ text: String) { status("==> \(machine): \(text)") }
    /// `    <machine>: <text>`
    public static func detail(_ machine: String, _ text: String) { status("    \(machine): \(text)") }
    /// vshare's own words to the user (headlines, details, prompts): standard output on a terminal,
    /// standard error otherwise (`chooseStatusStream`).
    public static func status(_ line: String) { write(fd: statusDescriptor, line) }

    /// Where status lines go. Written once at start (`chooseStatusStream`), before any thread.
    nonisolated(unsafe) private static var statusDescriptor: Int32 = 1

    /// Called once at start, by every command. When standard output is redirected or piped (not a
    /// terminal), status lines go to standard error, so standard output carries only a command's
    /// data: what `connect --ssh NAME -- cmd` runs, `shares`' list, `logs`' lines, the relay's access
    /// log. `vshare relay > access.log` keeps the access log apart from what the relay says; on a
    /// terminal both streams reach the user anyway, in the order written.
    public static func chooseStatusStream() {
        if isatty(1) == 0 { statusDescriptor = 2 }
    }

    /// A command's data (a listing, a log line, a token the user asked for): always standard output.
    public static func out(_ line: String) { write(fd: 1, line) }
    public static func error(_ line: String) { write(fd: 2, line) }

    /// A headline printed once per event that strangers can repeat at will (a refused client):
    /// identical lines are rate-limited and summarized (`LogRateLimiter`).
    public static func throttledHeadline(_ machine: String, _ text: String) {
        let lines = statusThrottle.withLock { $0.admit("==> \(machine): \(text)", now: monotonicSeconds()) }
        for line in lines { status(line) }
    }

    /// `detail(_:_:)`, rate-limited like `throttledHeadline`.
    public static func throttledDetail(_ machine: String, _ text: String) {
        let lines = statusThrottle.withLock { $0.admit("    \(machine): \(text)", now: monotonicSeconds()) }
        for line in lines { status(line) }
    }

    /// `error(_:)` for lines that can repeat in a flood (a listener that cannot accept).
    public static func throttledError(_ line: String) {
        let lines = errorThrottle.withLock { $0.admit(line, now: monotonicSeconds()) }
        for line in lines { error(line) }
    }

    /// Prints the summaries of floods that stopped (call it now and then, from a periodic timer).
    public static func flushThrottled() {
        let now = monotonicSeconds()
        for line in statusThrottle.withLock({ $0.due(now: now) }) { status(line) }
        for line in errorThrottle.withLock({ $0.due(now: now) }) { error(line) }
    }

    private static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Writes ready-made output (lines with their newlines) to standard output.
    public static func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { write(fd: 1, $0) }
    }

    private static func write(fd: Int32, _ line: String) {
        var text = line
        text.append("\n")
        text.withUTF8 { write(fd: fd, $0) }
    }

    private static func write(fd: Int32, _ bytes: UnsafeBufferPointer<UInt8>) {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n <= 0 { if errno == EINTR { continue }; return }
            offset += n
        }
    }
}
