import Foundation

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
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }
}
