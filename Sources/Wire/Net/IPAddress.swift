// An IPv4 or IPv6 address as one 128-bit value, for access lists: one comparison serves both
// families, and a dual-stack socket's IPv4-mapped peer (::ffff:a.b.c.d) is the IPv4 address it maps.

/// An IP address of either family. IPv4 is held in its IPv4-mapped IPv6 form (::ffff:a.b.c.d).
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) { self.high = high; self.low = low }
    public init(_ v4: IPv4Address) { high = 0; low = 0xFFFF_0000_0000 | UInt64(v4.value) }

    /// Dotted-quad IPv4 or RFC 4291 IPv6 text (`::` once, an embedded dotted quad last, no zone id);
    /// nil for anything else.
    public init?(_ text: some StringProtocol) {
        if let v4 = IPv4Address(text) { self.init(v4); return }
        guard let words = IPAddress.ipv6Words(Substring(text)) else { return nil }
        var high: UInt64 = 0, low: UInt64 = 0
        for i in 0..<4 { high = high << 16 | UInt64(words[i]) }
        for i in 4..<8 { low = low << 16 | UInt64(words[i]) }
        self.init(high: high, low: low)
    }

    public var isIPv4: Bool { high == 0 && low >> 32 == 0xFFFF }

    public var description: String {
        if isIPv4 { return IPv4Address(UInt32(truncatingIfNeeded: low)).description }
        let words = (0..<8).map { i -> UInt16 in
            UInt16(truncatingIfNeeded: (i < 4 ? high : low) >> UInt64(48 - 16 * (i % 4)))
        }
        // RFC 5952: the longest run of two or more zero words becomes "::" (the first such run on a tie).
        var best = (start: -1, count: 1), run = (start: 0, count: 0)
        for (i, word) in words.enumerated() {
            if word == 0 {
                if run.count == 0 { run.start = i }
                run.count += 1
                if run.count > best.count { best = run }
            } else {
                run.count = 0
            }
        }
        let hex = words.map { String($0, radix: 16) }
        guard best.start >= 0 else { return hex.joined(separator: ":") }
        return hex[..<best.start].joined(separator: ":") + "::" + hex[(best.start + best.count)...].joined(separator: ":")
    }

    /// The eight 16-bit words of IPv6 text.
    private static func ipv6Words(_ text: Substring) -> [UInt16]? {
        guard text.utf8.count <= 45, text.contains(":") else { return nil }
        let bytes = Array(text.utf8)
        // "::" at most once: the words it stands for are the ones the two sides leave out.
        let gaps = bytes.indices.dropLast().filter { bytes[$0] == 0x3A && bytes[$0 + 1] == 0x3A }
        guard gaps.count <= 1 else { return nil }
        guard let gap = gaps.first else {
            guard let words = groups(text, allowsIPv4Tail: true), words.count == 8 else { return nil }
            return words
        }
        let split = text.utf8.index(text.startIndex, offsetBy: gap)
        let after = text.utf8.index(split, offsetBy: 2)
        guard let head = groups(text[..<split], allowsIPv4Tail: false), let tail = groups(text[after...], allowsIPv4Tail: true),
              head.count + tail.count <= 7 else { return nil }
        return head + [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
    }

    /// Colon-separated hex groups (empty text: none); the last may be a dotted quad (two words).
    private static func groups(_ text: Substring, allowsIPv4Tail: Bool) -> [UInt16]? {
        if text.isEmpty { return [] }
        var words: [UInt16] = []
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        for (index, part) in parts.enumerated() {
            if index == parts.count - 1, allowsIPv4Tail, part.contains(".") {
                guard let v4 = IPv4Address(part) else { return nil }
                words += [UInt16(v4.value >> 16), UInt16(truncatingIfNeeded: v4.value)]
            } else {
                guard (1...4).contains(part.count), part.allSatisfy(\.isHexDigit), let word = UInt16(part, radix: 16) else { return nil }
                words.append(word)
            }
        }
        return words
    }
}
