import Wire

/// A small, strict scanner over command-line arguments: `--name value`, `--name=value`, flags.
/// Unknown options are errors, so a typo never silently changes what runs.
struct ArgumentScanner {
    private var arguments: [String]
    private(set) var positionals: [String] = []
    /// Arguments after a bare `--`, passed on untouched.
    private(set) var passthrough: [String] = []

    init(_ arguments: [String]) { self.arguments = arguments }

    struct UsageError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// Parses all arguments against the known options. `flags` take no value; `options` take one
    /// (and may repeat). Returns values in order per option.
    mutating func parse(flags: Set<String>, options: Set<String>) throws(UsageError) -> Parsed {
        var parsed = Parsed()
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--" {
                passthrough = Array(arguments[index...])
                break
            }
            guard argument.hasPrefix("--") else {
                positionals.append(argument)
                continue
            }
            var name = String(argument.dropFirst(2))
            var value: String?
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            if flags.contains(name) {
                guard value == nil else { throw UsageError("--\(name) takes no value") }
                parsed.flags.insert(name)
            } else if options.contains(name) {
                if value == nil {
                    guard index < arguments.count else { throw UsageError("--\(name) needs a value") }
                    value = arguments[index]
                    index += 1
                }
                parsed.values[name, default: []].append(value!)
            } else {
                throw UsageError("unknown option --\(name)")
            }
        }
        parsed.positionals = positionals
        parsed.passthrough = passthrough
        return parsed
    }

    struct Parsed {
        var flags: Set<String> = []
        var values: [String: [String]] = [:]
        var positionals: [String] = []
        var passthrough: [String] = []

        func has(_ flag: String) -> Bool { flags.contains(flag) }
        func last(_ option: String) -> String? { values[option]?.last }
        func all(_ option: String) -> [String] { values[option] ?? [] }

        /// A per-stream window size (`--stream-window 8M`), within what the protocol allows.
        func streamWindow() throws(UsageError) -> UInt32? {
            guard let text = last("stream-window") else { return nil }
            guard let size = ByteSizeSyntax.parse(text), size >= Int(HelloBody.windowRange.lowerBound),
                  size <= Int(HelloBody.windowRange.upperBound) else {
                throw UsageError("--stream-window must be a size from 64K to 1G, like 4M, not '\(text)'")
            }
            return UInt32(size)
        }

        func port(_ option: String) throws(UsageError) -> UInt16? {
            guard let text = last(option) else { return nil }
            guard let port = UInt16(text), port > 0 else { throw UsageError("--\(option) must be a port number from 1 to 65535, not '\(text)'") }
            return port
        }
    }
}
