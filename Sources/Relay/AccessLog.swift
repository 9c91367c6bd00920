import Glibc
import Transport

/// One line per proxied HTTP request:
/// `<ISO 8601 UTC time> <share> <client ip> "<METHOD> <path>" <status> <bytes> <ms>ms`
///
/// Lines are collected and written once per loop turn: a busy relay logs thousands of requests per
/// second, and a `write` each cost more than the rest of the request's handling in the relay.
enum AccessLog {
    private static let lock = Lock()
    nonisolated(unsafe) private static var pending = ""
    nonisolated(unsafe) private static var flushScheduled = false
    nonisolated(unsafe) private static var cached: (second: time_t, text: String) = (0, "")

    static func record(share: String, client: String, method: String, path: String, status: Int, bytes: Int,
                       seconds: Double, loop: EventLoop) {
        let ms = Int((seconds * 1000).rounded())
        var line = timestamp()
        line.reserveCapacity(96 + path.utf8.count)
        for part in [" ", share, " ", client, " \"", method, " ", sanitize(path), "\" ", String(status), " ", String(bytes), " ", String(ms), "ms\n"] {
            line += part
        }
        let schedule = lock.withLock { () -> Bool in
            pending += line
            defer { flushScheduled = true }
            return !flushScheduled
        }
        if schedule { loop.atEndOfTurn { flush() } }
    }

    static func flush() {
        let text = lock.withLock { () -> String in
            flushScheduled = false
            defer { pending = "" }
            return pending
        }
        guard !text.isEmpty else { return }
        Console.out(String(text.dropLast()))
    }

    /// The formatted time, cached for the second it names.
    static func timestamp() -> String {
        var now = time(nil)
        if let hit = lock.withLock({ cached.second == now ? cached.text : nil }) { return hit }
        var parts = tm()
        gmtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%SZ", &parts)
        let text = String(cString: buffer)
        lock.withLock { cached = (now, text) }
        return text
    }

    /// Keeps a log line one line: control characters and spaces in paths are escaped, long paths cut.
    static func sanitize(_ path: String) -> String {
        // Nearly every path is plain printable ASCII: keep it as it is.
        if path.utf8.count <= 512 && path.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x22 }) { return path }
        var out = ""
        for scalar in path.unicodeScalars.prefix(512) {
            if scalar.value < 0x21 || scalar.value == 0x7F || scalar == "\"" {
                out += "%" + String(scalar.value, radix: 16, uppercase: true).leftPadded(2)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
