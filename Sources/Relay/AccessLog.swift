import CInterop
import Console
import Foundation
import Glibc
import Store
import Transport

/// One line per proxied HTTP request:
/// `<ISO 8601 UTC time> <share> <client ip> "<METHOD> <path>" <status> <bytes> <ms>ms`, and for a
/// request the share's access rules refused, ` acl=<reason>` (`allow-ip`, `basic-auth:missing`...);
/// for a response that did not reach its end, ` aborted=<side>` (`client`: the browser went away;
/// `machine`: the machine's side was cut; `relay`: the relay ended the connection) — its status
/// is what the machine had begun to answer (499 when nothing had begun). Answers of the relay's
/// own (404, 429, 502, 503, 504, 400, 408...) are logged like any other, with `- -` for the method
/// and path when no request head was read. The row for the database carries the same refusal
/// reason and aborting side.
///
/// Lines are collected and written once per loop turn: a busy relay logs thousands of requests per
/// second, and a `write` each cost more than the rest of the request's handling in the relay.
enum AccessLog {
    private static let lock = Lock()
    nonisolated(unsafe) private static var pending: [UInt8] = []
    nonisolated(unsafe) private static var flushScheduled = false
    nonisolated(unsafe) private static var cached: (second: time_t, text: String) = (0, "")

    /// Where each line also goes as a row (the relay's database, through its non-blocking writer);
    /// set once at start, before any loop runs.
    nonisolated(unsafe) static var store: RelayStore?
    /// Where each answer is also counted (`GET /metrics`); set once at start, like `store`.
    nonisolated(unsafe) static var metrics: RelayMetrics?

    static func record(share: String, client: String, method: String, path: String, status: Int, bytes: Int,
                       seconds: Double, refusal: String? = nil, aborted: String? = nil, userAgent: String = "", loop: EventLoop) {
        let ms = Int((seconds * 1000).rounded())
        metrics?.answered(status: status, bytesOut: bytes)
        store?.access(AccessLogEntry(share: share, time: Date(), client: client, method: method, path: path, status: status,
                                     bytes: Int64(bytes), durationMilliseconds: Int64(ms), userAgent: userAgent,
                                     refusalReason: refusal, aborted: aborted))
        let stamp = timestamp()
        let path = sanitize(path)
        let schedule = lock.withLock { () -> Bool in
            // Appended as bytes: no intermediate Strings on a path taken once per request.
            for part in [stamp, " ", share, " ", client, " \"", method, " ", path, "\" "] { pending.append(contentsOf: part.utf8) }
            appendDecimal(status)
            pending.append(0x20)
            appendDecimal(bytes)
            pending.append(0x20)
            appendDecimal(ms)
            pending.append(contentsOf: "ms".utf8)
            if let refusal { pending.append(contentsOf: " acl=".utf8); pending.append(contentsOf: refusal.utf8) }
            if let aborted { pending.append(contentsOf: " aborted=".utf8); pending.append(contentsOf: aborted.utf8) }
            pending.append(0x0A)
            defer { flushScheduled = true }
            return !flushScheduled
        }
        if schedule { loop.atEndOfTurn { flush() } }
    }

    /// Appends a non-negative integer in decimal (under the lock).
    private static func appendDecimal(_ value: Int) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = max(0, value), count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(truncatingIfNeeded: 0x30 + n % 10)
                n /= 10
                count += 1
            } while n > 0
            for i in stride(from: count - 1, through: 0, by: -1) { pending.append(buffer[i]) }
        }
    }

    static func flush() {
        let bytes = lock.withLock { () -> [UInt8] in
            flushScheduled = false
            defer { pending.removeAll(keepingCapacity: true) }
            return pending
        }
        guard !bytes.isEmpty else { return }
        Console.write(bytes)
    }

    /// The formatted time, cached for the second it names.
    static func timestamp() -> String {
        var now = time(nil)
        if let hit = lock.withLock({ cached.second == now ? cached.text : nil }) { return hit }
        var parts = tm()
        gmtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%SZ", &parts)
        let text = stringFromCBuffer(buffer)
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
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += (hex.count < 2 ? "%0" : "%") + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
