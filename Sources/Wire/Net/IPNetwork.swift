// `--allow-ip` entries: a network in CIDR notation, and whether an address is in it.

/// An IPv4 or IPv6 network (`10.0.0.0/8`, `2001:db8::/32`; a bare address is a /32 or /128).
/// IPv4 networks are held as IPv4-mapped IPv6 networks, so a prefix of n is n + 96 inside.
public struct IPNetwork: Hashable, Sendable, CustomStringConvertible {
    /// The network's first address (host bits cleared).
    public let address: IPAddress
    /// The prefix length in the address's own family (0...32 for IPv4, 0...128 for IPv6).
    public let prefixLength: Int

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case notAnAddress(String)
        case badPrefix(String)

        public var description: String {
            switch self {
            case .notAnAddress(let text):
                return "'\(text)' is not an IPv4 or IPv6 address or network: write it like 10.0.0.0/8, 192.0.2.7 or 2001:db8::/32"
            case .badPrefix(let text):
                return "'\(text)' has a prefix length that does not fit its address: 0 to 32 for IPv4, 0 to 128 for IPv6"
            }
        }
    }

    public init(address: IPAddress, prefixLength: Int) {
        let bits = address.isIPv4 ? prefixLength + 96 : prefixLength
        let mask = IPNetwork.mask(bits: bits)
        self.address = IPAddress(high: address.high & mask.high, low: address.low & mask.low)
        self.prefixLength = prefixLength
    }

    /// Parses `ADDRESS[/PREFIX]`; surrounding ASCII whitespace is ignored.
    public init(parsing text: some StringProtocol) throws(ParseError) {
        let entry = String(text).trimmingASCIIWhitespace()
        let parts = entry.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parts[0]) else { throw .notAnAddress(String(entry)) }
        let limit = address.isIPv4 ? 32 : 128
        var length = limit
        if parts.count == 2 {
            guard (1...3).contains(parts[1].count), parts[1].allSatisfy({ $0.isASCII && $0.isNumber }),
                  let n = Int(parts[1]), n <= limit else { throw .badPrefix(String(entry)) }
            length = n
        }
        self.init(address: address, prefixLength: length)
    }

    /// Parses a comma-separated list (`10.0.0.0/8,192.0.2.7`); empty entries are errors.
    public static func parseList(_ text: some StringProtocol) throws(ParseError) -> [IPNetwork] {
        var networks: [IPNetwork] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            networks.append(try IPNetwork(parsing: item))
        }
        return networks
    }

    public func contains(_ candidate: IPAddress) -> Bool {
        let mask = IPNetwork.mask(bits: address.isIPv4 ? prefixLength + 96 : prefixLength)
        return candidate.high & mask.high == address.high && candidate.low & mask.low == address.low
    }

    public var description: String { "\(address)/\(prefixLength)" }

    private static func mask(bits: Int) -> (high: UInt64, low: UInt64) {
        func ones(_ n: Int) -> UInt64 { n <= 0 ? 0 : n >= 64 ? .max : ~(UInt64.max >> UInt64(n)) }
        return (ones(bits), ones(bits - 64))
    }
}
