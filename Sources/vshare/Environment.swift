import Foundation
import Wire

/// The only place that reads the process environment and the home directory; roles get plain values.
enum Environment {
    static func value(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }

    static var home: String { value("HOME") ?? NSHomeDirectory() }

    /// `~/.vshare/relay`: where a relay on this machine keeps its CA, certificate and token.
    static var defaultRelayDataDir: String { home + "/.vshare/relay" }

    static func fileExists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    static func readTrimmed(_ path: String) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let trimmed = String(text.trimmingASCIIWhitespace())
        return trimmed.isEmpty ? nil : trimmed
    }
}

extension Environment {
    /// `VSHARE_BUSY_POLL=MICROSECONDS`: how long each event loop polls for more I/O before it
    /// sleeps (0 turns it off). A tuning knob for latency versus idle CPU, read for every role.
    static func busyPollMicroseconds() throws(ArgumentScanner.UsageError) -> Double? {
        guard let text = value("VSHARE_BUSY_POLL") else { return nil }
        guard let us = Double(text), us >= 0, us <= 100_000 else {
            throw .init("VSHARE_BUSY_POLL must be microseconds between 0 and 100000, not '\(text)'")
        }
        return us
    }
}
