/// Sizes on the command line: `65536`, `512K`, `4M`, `1G` (binary units, case-insensitive, optional `iB`/`B`).
public enum ByteSizeSyntax {
    public static func parse(_ text: String) -> Int? {
        var digits = text.trimmingASCIIWhitespace().lowercased()
        for suffix in ["ib", "b"] where digits.hasSuffix(suffix) && digits.count > suffix.count {
            digits.removeLast(suffix.count)
            break
        }
        var shift = 0
        switch digits.last {
        case "k": shift = 10
        case "m": shift = 20
        case "g": shift = 30
        default: break
        }
        if shift > 0 { digits.removeLast() }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(digits), value > 0,
              value <= (Int.max >> shift) else { return nil }
        return value << shift
    }
}
