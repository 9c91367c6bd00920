/// A small, strict subset of TOML (v1.0) for `vshare relay --config FILE`, pure and I/O-free.
///
/// Accepted, one setting per line:
/// - `key = "basic string"` (escapes `\" \\ \n \t \r \uXXXX`), `key = 'literal string'`;
/// - `key = 42` (decimal, optional sign, `_` between digits), `key = true` / `false`;
/// - `key = ["a", 'b']` — an array of strings on one line, trailing comma allowed;
/// - bare keys of `A-Z a-z 0-9 - _`; `#` comments; blank lines.
///
/// Refused, each with the line: tables (`[section]`), dotted or quoted keys, multi-line strings and
/// arrays, floats, dates, inline tables, a key given twice. Settings are flat because they are the
/// relay's flag names, and TOML's other forms would only let a typo mean something.
public enum ConfigFileParser {
    /// Lines longer than this are refused: a config file is written by hand.
    public static let maxLineLength = 4096

    public static func parse(_ text: String) throws(ConfigFileError) -> [ConfigEntry] {
        var entries: [ConfigEntry] = []
        var seen: [String: Int] = [:]
        var lineNumber = 0
        // Split on bytes: as Characters, "\r\n" is one grapheme and would never equal "\n".
        for rawLine in text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = Array(rawLine)
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            guard line.count <= maxLineLength else {
                throw ConfigFileError(line: lineNumber, "the line is longer than \(maxLineLength) bytes")
            }
            var cursor = Cursor(line, line: lineNumber)
            cursor.skipSpaces()
            if cursor.atEndOrComment { continue }
            if cursor.peek == UInt8(ascii: "[") {
                throw cursor.error("tables ([section]) are not used: write every setting as `key = value` at the top level")
            }
            let key = try cursor.bareKey()
            cursor.skipSpaces()
            guard cursor.take(UInt8(ascii: "=")) else { throw cursor.error("expected `=` after the key '\(key)'") }
            cursor.skipSpaces()
            let value = try cursor.value()
            cursor.skipSpaces()
            guard cursor.atEndOrComment else { throw cursor.error("unexpected text after the value of '\(key)'") }
            if let first = seen[key] {
                throw ConfigFileError(line: lineNumber, "'\(key)' is already set on line \(first)")
            }
            seen[key] = lineNumber
            entries.append(ConfigEntry(key: key, value: value, line: lineNumber))
        }
        return entries
    }
}

/// Reads one line's bytes left to right.
private struct Cursor {
    private let bytes: [UInt8]
    private var index = 0
    let line: Int

    init(_ bytes: [UInt8], line: Int) {
        self.bytes = bytes
        self.line = line
    }

    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }
    var atEndOrComment: Bool { peek == nil || peek == UInt8(ascii: "#") }

    func error(_ problem: String) -> ConfigFileError { ConfigFileError(line: line, problem) }

    mutating func skipSpaces() {
        while let byte = peek, byte == 0x20 || byte == 0x09 { index += 1 }
    }

    mutating func take(_ byte: UInt8) -> Bool {
        guard peek == byte else { return false }
        index += 1
        return true
    }

    mutating func bareKey() throws(ConfigFileError) -> String {
        let start = index
        while let byte = peek, Self.isKeyByte(byte) { index += 1 }
        guard index > start else {
            if peek == UInt8(ascii: "\"") || peek == UInt8(ascii: "'") {
                throw error("quoted keys are not used: setting names are plain, like share-ttl")
            }
            throw error("expected a setting name (letters, digits, - and _)")
        }
        if peek == UInt8(ascii: ".") { throw error("dotted keys are not used: write every setting at the top level") }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private static func isKeyByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"): true
        default: false
        }
    }

    mutating func value() throws(ConfigFileError) -> ConfigValue {
        switch peek {
        case nil, UInt8(ascii: "#"):
            throw error("the value is missing")
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            return .string(try string())
        case UInt8(ascii: "["):
            return .strings(try stringArray())
        case UInt8(ascii: "{"):
            throw error("inline tables are not used: write each setting on its own line")
        default:
            return try scalar()
        }
    }

    mutating func string() throws(ConfigFileError) -> String {
        if remainingStarts(with: "\"\"\"") || remainingStarts(with: "'''") {
            throw error("multi-line strings are not used: keep the value on one line")
        }
        let quote = bytes[index]
        index += 1
        var out: [UInt8] = []
        while let byte = peek {
            index += 1
            // The slice ends at an ASCII quote inside valid UTF-8, so it is valid UTF-8 itself.
            if byte == quote { return String(decoding: out, as: UTF8.self) }
            if byte < 0x20 && byte != 0x09 || byte == 0x7F {
                throw error("a control character inside a string: write it as an escape")
            }
            if byte == UInt8(ascii: "\\") && quote == UInt8(ascii: "\"") {
                try escape(into: &out)
            } else {
                out.append(byte)
            }
        }
        throw error("the string is not closed: add the closing \(quote == UInt8(ascii: "\"") ? "\"" : "'")")
    }

    private mutating func escape(into out: inout [UInt8]) throws(ConfigFileError) {
        guard let byte = peek else { throw error("the string ends with a lone backslash") }
        index += 1
        switch byte {
        case UInt8(ascii: "\""): out.append(byte)
        case UInt8(ascii: "\\"): out.append(byte)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "u"):
            guard index + 4 <= bytes.count,
                  let code = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16),
                  let scalar = Unicode.Scalar(code) else {
                throw error("\\u needs four hex digits naming a Unicode scalar")
            }
            index += 4
            out.append(contentsOf: Array(String(Character(scalar)).utf8))
        default:
            throw error("unknown escape \\\(String(decoding: [byte], as: UTF8.self)) in a string")
        }
    }

    private func remainingStarts(with prefix: String) -> Bool {
        let wanted = Array(prefix.utf8)
        return bytes.count - index >= wanted.count && Array(bytes[index..<index + wanted.count]) == wanted
    }

    mutating func stringArray() throws(ConfigFileError) -> [String] {
        index += 1  // [
        var items: [String] = []
        while true {
            skipSpaces()
            if take(UInt8(ascii: "]")) { return items }
            guard peek == UInt8(ascii: "\"") || peek == UInt8(ascii: "'") else {
                if peek == nil || peek == UInt8(ascii: "#") { throw error("the array is not closed on this line: add ]") }
                throw error("arrays hold strings only, in quotes")
            }
            items.append(try string())
            skipSpaces()
            if take(UInt8(ascii: ",")) { continue }
            guard take(UInt8(ascii: "]")) else { throw error("expected , or ] in the array") }
            return items
        }
    }

    /// A bare word up to a space or comment: true, false or an integer.
    mutating func scalar() throws(ConfigFileError) -> ConfigValue {
        let start = index
        while let byte = peek, byte != 0x20, byte != 0x09, byte != UInt8(ascii: "#") { index += 1 }
        let word = String(decoding: bytes[start..<index], as: UTF8.self)
        switch word {
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        default:
            if let number = Self.integer(word) { return .integer(number) }
            throw error("'\(word)' is not a value: put text in quotes (like \"8h\"), or write a whole number, true or false")
        }
    }

    /// TOML decimal integers: optional sign, digits with single `_` between them, no leading zeros.
    private static func integer(_ word: String) -> Int? {
        var body = Substring(word)
        var negative = false
        if let sign = body.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            body = body.dropFirst()
        }
        guard let first = body.first, first.isASCII, first.isNumber, !body.hasPrefix("_"), !body.hasSuffix("_"),
              !body.contains("__"), body.allSatisfy({ $0 == "_" || ($0.isASCII && $0.isNumber) }) else { return nil }
        let digits = body.filter { $0 != "_" }
        guard digits == "0" || !digits.hasPrefix("0"), let magnitude = Int(digits) else { return nil }
        return negative ? -magnitude : magnitude
    }
}
