/// Writes metric families in the Prometheus text exposition format (version 0.0.4), the body of a
/// `GET /metrics` answered with `Content-Type: text/plain; version=0.0.4`. Pure: the relay and the
/// share agent each gather their numbers and hand them here.
public enum PrometheusText {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public static func render(_ families: [MetricFamily]) -> String {
        var out = ""
        for family in families {
            precondition(isValidName(family.name), "metric name \(family.name) is not [a-zA-Z_:][a-zA-Z0-9_:]*")
            out += "# HELP \(family.name) \(escapeHelp(family.help))\n"
            out += "# TYPE \(family.name) \(family.kind.rawValue)\n"
            for sample in family.samples {
                out += family.name
                if !sample.labels.isEmpty {
                    out += "{"
                    out += sample.labels.map { label in
                        precondition(isValidName(label.name) && !label.name.contains(":"), "label name \(label.name)")
                        return "\(label.name)=\"\(escapeLabelValue(label.value))\""
                    }.joined(separator: ",")
                    out += "}"
                }
                out += " \(number(sample.value))\n"
            }
        }
        return out
    }

    /// Whole numbers without a fraction (counters are counts), others as Swift prints them; the
    /// format's spellings for the non-finite values.
    static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    /// HELP text escapes backslash and newline.
    static func escapeHelp(_ text: String) -> String {
        text.replacingAll("\\", with: "\\\\").replacingAll("\n", with: "\\n")
    }

    /// Label values also escape the double quote.
    static func escapeLabelValue(_ text: String) -> String {
        escapeHelp(text).replacingAll("\"", with: "\\\"")
    }

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")) else { return false }
        return name.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ":")
        }
    }
}

private extension String {
    /// Foundation-free replacement (Wire does not import Foundation).
    func replacingAll(_ target: Character, with replacement: String) -> String {
        guard contains(target) else { return self }
        var out = ""
        for character in self { if character == target { out += replacement } else { out.append(character) } }
        return out
    }
}
