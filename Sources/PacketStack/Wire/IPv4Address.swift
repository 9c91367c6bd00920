/// An IPv4 address; `value` is in host byte order.
public struct IPv4Address: Hashable, Sendable, CustomStringConvertible {
    public var value: UInt32

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    public init(value: UInt32) { self.value = value }

    /// Strict dotted quad: exactly four decimal parts 0...255, no leading zeros, nothing else.
    public init?(_ dotted: String) {
        var result: UInt32 = 0
        var part: UInt32 = 0
        var digits = 0
        var parts = 0
        for ch in dotted.utf8 {
            if ch == UInt8(ascii: ".") {
                guard digits > 0, parts < 3 else { return nil }
                result = result << 8 | part
                parts += 1
                part = 0
                digits = 0
            } else if ch >= UInt8(ascii: "0") && ch <= UInt8(ascii: "9") {
                if digits == 1 && part == 0 { return nil }   // leading zero
                part = part * 10 + UInt32(ch - UInt8(ascii: "0"))
                digits += 1
                guard digits <= 3, part <= 255 else { return nil }
            } else {
                return nil
            }
        }
        guard digits > 0, parts == 3 else { return nil }
        value = result << 8 | part
    }

    public var description: String {
        "\(value >> 24).\(value >> 16 & 255).\(value >> 8 & 255).\(value & 255)"
    }
}
