import CInterop
import Glibc
import CShims

/// An IPv4 or IPv6 address with a port, parsed from "HOST:PORT" or "[V6]:PORT".
/// Host names are resolved with getaddrinfo (blocking; only at start-up and when an agent dials).
public struct SocketAddress: Sendable, CustomStringConvertible, Hashable {
    public enum Family: Sendable, Hashable { case v4, v6 }
    public var host: String   // numeric form
    public var port: UInt16
    public var family: Family

    public init(host: String, port: UInt16) throws(AddressError) {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            self.host = host; self.family = .v4
        } else if inet_pton(AF_INET6, host, &v6) == 1 {
            self.host = host; self.family = .v6
        } else {
            let resolved = try SocketAddress.resolve(host)
            self.host = resolved.0; self.family = resolved.1
        }
        self.port = port
    }

    /// Parses "HOST:PORT", "[V6]:PORT" or ":PORT" (all interfaces).
    public init(parsing text: String, defaultHost: String = "0.0.0.0") throws(AddressError) {
        let (host, portText) = try SocketAddress.split(text)
        guard let port = UInt16(portText) else { throw AddressError.invalid(text, "the port must be a number from 0 to 65535") }
        try self.init(host: host.isEmpty ? defaultHost : host, port: port)
    }

    public static func split(_ text: String) throws(AddressError) -> (String, String) {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw AddressError.invalid(text, "expected [IPv6]:PORT")
            }
            return (String(text[text.index(after: text.startIndex)..<close]), String(text[text.index(close, offsetBy: 2)...]))
        }
        guard let colon = text.lastIndex(of: ":") else { throw AddressError.invalid(text, "expected HOST:PORT") }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    static func resolve(_ name: String) throws(AddressError) -> (String, Family) {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(name, nil, &hints, &result)
        guard rc == 0, let first = result else {
            throw AddressError.unresolvable(name, rc == 0 ? "no address" : String(cString: gai_strerror(rc)))
        }
        defer { freeaddrinfo(result) }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        if first.pointee.ai_family == AF_INET6 {
            var sin6 = first.pointee.ai_addr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee }
            inet_ntop(AF_INET6, &sin6.sin6_addr, &buffer, socklen_t(buffer.count))
            return (stringFromCBuffer(buffer), .v6)
        }
        var sin = first.pointee.ai_addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee }
        inet_ntop(AF_INET, &sin.sin_addr, &buffer, socklen_t(buffer.count))
        return (stringFromCBuffer(buffer), .v4)
    }

    public var description: String { family == .v6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Calls `body` with a sockaddr for this address.
    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> R) rethrows -> R {
        switch family {
        case .v4:
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = port.bigEndian
            inet_pton(AF_INET, host, &sin.sin_addr)
            return try withUnsafePointer(to: &sin) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case .v6:
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = port.bigEndian
            inet_pton(AF_INET6, host, &sin6.sin6_addr)
            return try withUnsafePointer(to: &sin6) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
    }

    /// The local address a socket is bound to (getsockname), for any socket type.
    static func local(of fd: Int32) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return rc == 0 ? SocketAddress(storage: storage) : nil
    }

    /// Builds an address from a kernel sockaddr (accept, getsockname).
    init?(storage: sockaddr_storage) {
        var storage = storage
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        switch Int32(storage.ss_family) {
        case AF_INET:
            let sin = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee } }
            var a = sin.sin_addr
            inet_ntop(AF_INET, &a, &buffer, socklen_t(buffer.count))
            host = stringFromCBuffer(buffer); port = UInt16(bigEndian: sin.sin_port); family = .v4
        case AF_INET6:
            let sin6 = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee } }
            var a = sin6.sin6_addr
            inet_ntop(AF_INET6, &a, &buffer, socklen_t(buffer.count))
            host = stringFromCBuffer(buffer); port = UInt16(bigEndian: sin6.sin6_port); family = .v6
            // Show IPv4-mapped clients as plain IPv4.
            if host.hasPrefix("::ffff:"), host.contains(".") { host = String(host.dropFirst(7)); family = .v4 }
        default:
            return nil
        }
    }
}

public enum AddressError: Error, CustomStringConvertible, Sendable {
    case invalid(String, String)
    case unresolvable(String, String)

    public var description: String {
        switch self {
        case .invalid(let text, let hint): return "invalid address '\(text)': \(hint)"
        case .unresolvable(let name, let why): return "cannot resolve '\(name)': \(why)"
        }
    }
}
