import CInterop
import Glibc

/// This host's interface addresses (getifaddrs), as numeric strings: the system half of
/// `ConnectScope.targetIsThisHost`, run once when a share starts.
enum InterfaceAddresses {
    /// Every IPv4 and IPv6 address of every interface in this network namespace; nil when
    /// getifaddrs fails (the caller decides what an unknown answer means).
    static func ofThisHost() -> [String]? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return nil }
        defer { freeifaddrs(list) }
        var addresses: [String] = []
        var entry = list
        while let e = entry {
            if let address = numeric(e.pointee.ifa_addr) { addresses.append(address) }
            entry = e.pointee.ifa_next
        }
        return addresses
    }

    private static func numeric(_ sa: UnsafeMutablePointer<sockaddr>?) -> String? {
        guard let sa else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        switch Int32(sa.pointee.sa_family) {
        case AF_INET:
            var address = UnsafeRawPointer(sa).loadUnaligned(as: sockaddr_in.self).sin_addr
            guard inet_ntop(AF_INET, &address, &buffer, socklen_t(buffer.count)) != nil else { return nil }
        case AF_INET6:
            var address = UnsafeRawPointer(sa).loadUnaligned(as: sockaddr_in6.self).sin6_addr
            guard inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)) != nil else { return nil }
        default:
            return nil
        }
        return stringFromCBuffer(buffer)
    }
}
