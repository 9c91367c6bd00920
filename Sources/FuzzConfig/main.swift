// libFuzzer target for the relay's configuration file parser (`vshare relay --config FILE`).
// The input is the file's text (invalid UTF-8 is repaired first, as the relay refuses such a file
// before parsing). The parser may refuse anything, but must never crash, must name a line that
// exists, and what it accepts must survive being written back out and parsed again.
//
// Build and run: `FUZZ_SECONDS=60 scripts/fuzz FuzzConfig`. Seeds: Tests/Fuzz/corpus/config/.
import Wire

/// Writes entries back as TOML the parser accepts: basic strings with every byte that needs it escaped.
private func render(_ entries: [ConfigEntry]) -> String {
    func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
    return entries.map { entry in
        let value: String
        switch entry.value {
        case .string(let text): value = quoted(text)
        case .integer(let number): value = String(number)
        case .boolean(let flag): value = flag ? "true" : "false"
        case .strings(let texts): value = "[" + texts.map(quoted).joined(separator: ", ") + "]"
        }
        return "\(entry.key) = \(value)"
    }.joined(separator: "\n")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let lineCount = text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).count
    do {
        let entries = try ConfigFileParser.parse(text)
        precondition(Set(entries.map(\.key)).count == entries.count, "a key accepted twice")
        precondition(entries.allSatisfy { $0.line >= 1 && $0.line <= lineCount }, "an entry on a line that does not exist")
        // Escaping can lengthen a line (a control character becomes \u0001): a written-back line
        // over the parser's limit is refused for its length, which says nothing about the parser.
        let written = render(entries)
        guard written.utf8.split(separator: 0x0A).allSatisfy({ $0.count <= ConfigFileParser.maxLineLength }) else { return 0 }
        let again: [ConfigEntry]
        do {
            again = try ConfigFileParser.parse(written)
        } catch {
            preconditionFailure("accepted entries do not parse once written back: \(error)")
        }
        precondition(again.map(\.key) == entries.map(\.key) && again.map(\.value) == entries.map(\.value),
                     "entries change when written back and parsed again")
    } catch {
        precondition(error.line >= 1 && error.line <= lineCount, "an error on line \(error.line) of \(lineCount)")
        _ = error.description
    }
    return 0
}
