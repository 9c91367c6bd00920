import Console
import Foundation
import Glibc
import SSHKeys
import Wire

/// The only place that reads the process environment and the home directory; roles get plain values.
enum Environment {
    /// Secrets taken out of the environment at start (`withholdSecrets`), so that nothing started
    /// later (ssh, ssh-agent, a library's helper) inherits them. Written once, before any thread.
    nonisolated(unsafe) private static var withheld: [String: String] = [:]

    /// Moves `Spawned.withheldVariables` (VSHARE_TOKEN) from the environment into this process only.
    static func withholdSecrets() {
        for name in Spawned.withheldVariables {
            guard let value = getenv(name) else { continue }
            withheld[name] = String(cString: value)
            unsetenv(name)
        }
    }

    static func value(_ name: String) -> String? {
        guard let value = withheld[name] ?? ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }

    /// A relay token: `--token-file FILE`, else `--token TOKEN` (with a warning: any local user
    /// reads a command line in /proc/PID/cmdline), else VSHARE_TOKEN, else `defaultFile`.
    static func token(_ parsed: ArgumentScanner.Parsed, defaultFile: String) throws(ArgumentScanner.UsageError) -> String? {
        if let file = parsed.last("token-file") {
            guard let token = readTrimmed(file) else {
                throw .init("cannot read a token from --token-file \(file): it is missing, unreadable or empty")
            }
            return token
        }
        if let token = parsed.last("token") {
            Console.error("warning: --token on the command line can be read by every local user (ps, /proc/PID/cmdline); use --token-file FILE or the VSHARE_TOKEN environment variable instead.")
            return token
        }
        return value("VSHARE_TOKEN") ?? readTrimmed(defaultFile)
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
