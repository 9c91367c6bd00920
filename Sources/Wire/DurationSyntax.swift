/// Human duration syntax used on the command line and in config: `30s`, `10m`, `8h`, `1d`,
/// plain integer seconds (`90`), and compounds (`1h30m`, `1d12h`, `2h0m30s`).
///
/// Rules (kept strict so typos fail loudly instead of meaning something surprising):
/// - units are `d`, `h`, `m`, `s` (lowercase); each unit at most once, largest first;
/// - every component is ASCII digits followed by a unit; a bare number is only accepted alone;
/// - no sign, no spaces inside, no fractions; surrounding whitespace is ignored;
/// - the total must be positive and fit in `Int`.
public enum DurationSyntax {
    private static let units: [(unit: Character, seconds: Int)] = [
        ("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1),
    ]

    /// Parses `text` into a number of seconds, or `nil` if it is empty, malformed, zero,
    /// negative, uses an unknown unit, or overflows `Int`.
    public static func parse(_ text: String) -> Int? {
        let trimmed = text.trimmingASCIIWhitespace()
        guard !trimmed.isEmpty else { return nil }

        // Plain integer seconds.
        if trimmed.allSatisfy(\.isASCIIDigit) {
            guard let value = Int(trimmed), value > 0 else { return nil }
            return value
        }

        var total = 0
        var digits = ""
        var nextUnitIndex = 0  // units must appear in decreasing order, each at most once
        for ch in trimmed {
            if ch.isASCIIDigit {
                digits.append(ch)
                continue
            }
            guard !digits.isEmpty,
                  let index = units.firstIndex(where: { $0.unit == ch }),
                  index >= nextUnitIndex,
                  let amount = Int(digits)
            else { return nil }
            let (scaled, overflow1) = amount.multipliedReportingOverflow(by: units[index].seconds)
            guard !overflow1 else { return nil }
            let (sum, overflow2) = total.addingReportingOverflow(scaled)
            guard !overflow2 else { return nil }
            total = sum
            digits = ""
            nextUnitIndex = index + 1
        }
        // Trailing digits without a unit ("1h30") are ambiguous: reject.
        guard digits.isEmpty, total > 0 else { return nil }
        return total
    }

    /// Formats seconds in the same syntax, largest units first, omitting zero parts:
    /// `28800` → `"8h"`, `5400` → `"1h30m"`, `45` → `"45s"`, `90061` → `"1d1h1m1s"`.
    /// `0` formats as `"0s"`; negative values get a leading `-` (which `parse` rejects).
    public static func format(seconds: Int) -> String {
        if seconds == 0 { return "0s" }
        var remaining = seconds.magnitude
        var out = seconds < 0 ? "-" : ""
        for (unit, size) in units {
            let size = UInt(size)
            let count = remaining / size
            remaining %= size
            if count > 0 { out += "\(count)\(unit)" }
        }
        return out
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) && isASCII }
}
