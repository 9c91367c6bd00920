// A client's request after the method negotiation (RFC 1928 §4).

public enum SOCKS5Command: UInt8, Sendable {
    case connect = 1
    case bind = 2
    case udpAssociate = 3
}

/// CMD, DST.ADDR and DST.PORT of a request. For UDP ASSOCIATE the address and port are the
/// client's expected datagram source, often 0.0.0.0:0.
public struct SOCKS5Request: Hashable, Sendable {
    public var command: SOCKS5Command
    public var destination: SOCKS5Address
    public var port: UInt16

    public init(command: SOCKS5Command, destination: SOCKS5Address, port: UInt16) {
        self.command = command
        self.destination = destination
        self.port = port
    }

    /// The client's side of the wire, for tests and tools.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = [5, command.rawValue, 0]
        destination.encode(port: port, into: &out)
        return out
    }
}
