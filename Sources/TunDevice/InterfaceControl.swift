import CShims
import Glibc
import Wire

/// An interface's IPv4 configuration as the kernel reports it (SIOCGIF*).
public struct InterfaceState: Equatable, Sendable {
    public var address: IPv4Address
    public var peer: IPv4Address
    public var netmask: IPv4Address
    public var mtu: Int
    public var isUp: Bool
    public var isPointToPoint: Bool
}

/// The AF_INET datagram socket the SIOCSIF* ioctls go through. It acts on the network
/// namespace of the thread that created it, like the TUN fd itself.
struct InterfaceControl: ~Copyable {
    private let sock: Int32

    init() throws(TunError) {
        sock = vshare_socket_nonblocking(AF_INET, Int32(SOCK_DGRAM.rawValue))
        guard sock >= 0 else { throw TunError.from("socket(AF_INET, SOCK_DGRAM)") }
    }

    deinit { Glibc.close(sock) }

    /// Address, point-to-point peer, /32 mask, MTU, then up: the kernel adds the host route
    /// to the peer through this interface once it is up with a peer address.
    func configure(_ name: String, local: IPv4Address, peer: IPv4Address, mtu: Int) throws(TunError) {
        try check("SIOCSIFADDR \(name) \(local)") { vshare_if_set_address(sock, name, local.value) }
        try check("SIOCSIFDSTADDR \(name) \(peer)") { vshare_if_set_peer(sock, name, peer.value) }
        try check("SIOCSIFNETMASK \(name)") { vshare_if_set_netmask(sock, name, 0xFFFF_FFFF) }
        try check("SIOCSIFMTU \(name) \(mtu)") { vshare_if_set_mtu(sock, name, Int32(clamping: mtu)) }
        try check("SIOCSIFFLAGS \(name) up") { vshare_if_set_up(sock, name) }
    }

    func state(of name: String) throws(TunError) -> InterfaceState {
        var address: UInt32 = 0, peer: UInt32 = 0, mask: UInt32 = 0
        var mtu: Int32 = 0, flags: Int32 = 0
        try check("SIOCGIFADDR \(name)") { vshare_if_get_address(sock, name, &address) }
        try check("SIOCGIFDSTADDR \(name)") { vshare_if_get_peer(sock, name, &peer) }
        try check("SIOCGIFNETMASK \(name)") { vshare_if_get_netmask(sock, name, &mask) }
        try check("SIOCGIFMTU \(name)") { vshare_if_get_mtu(sock, name, &mtu) }
        try check("SIOCGIFFLAGS \(name)") { vshare_if_get_flags(sock, name, &flags) }
        return InterfaceState(address: IPv4Address(address), peer: IPv4Address(peer), netmask: IPv4Address(mask),
                              mtu: Int(mtu), isUp: flags & VSHARE_IFF_UP != 0,
                              isPointToPoint: flags & VSHARE_IFF_POINTOPOINT != 0)
    }

    private func check(_ call: @autoclosure () -> String, _ body: () -> Int32) throws(TunError) {
        guard body() != 0 else { return }
        let failure = errno   // before building the message, which may allocate
        throw TunError.from(call(), errno: failure)
    }
}

extension InterfaceState {
    /// Reads the IPv4 configuration of `name` in the calling thread's network namespace.
    public static func read(_ name: String) throws(TunError) -> InterfaceState {
        try InterfaceControl().state(of: name)
    }
}
