/// One value in a configuration file: the TOML types vshare's settings need, and no more.
public enum ConfigValue: Equatable, Sendable {
    case string(String)
    case integer(Int)
    case boolean(Bool)
    /// Arrays hold strings only (a list of host names, of CIDRs): every repeatable setting is text.
    case strings([String])

    /// What the setting reads as on the command line: the file and the flags share one set of
    /// value parsers, so `share-ttl = "8h"` and `--share-ttl 8h` cannot disagree.
    public var commandLineValues: [String] {
        switch self {
        case .string(let text): [text]
        case .integer(let number): [String(number)]
        case .boolean(let flag): [flag ? "on" : "off"]
        case .strings(let texts): texts
        }
    }
}

/// A `key = value` line, with where it was, so an error about its meaning can name the line.
public struct ConfigEntry: Equatable, Sendable {
    public var key: String
    public var value: ConfigValue
    public var line: Int

    public init(key: String, value: ConfigValue, line: Int) {
        self.key = key
        self.value = value
        self.line = line
    }
}

/// Why a configuration file was refused; always names the line, 1-based.
public struct ConfigFileError: Error, Equatable, CustomStringConvertible, Sendable {
    public var line: Int
    public var problem: String

    public init(line: Int, _ problem: String) {
        self.line = line
        self.problem = problem
    }

    public var description: String { "line \(line): \(problem)" }
}
