import CShims
import Glibc
import Wire

/// The addresses interfaces on this host already use: their own addresses, and the
/// point-to-point peers of tunnels (another `vshare connect`'s machine IP shows up here).
public struct AddressesInUse: Sendable, Equatable {
    public var local: Set<IPv4Address>
    public var peers: Set<IPv4Address>

    public init(local: Set<IPv4Address> = [], peers: Set<IPv4Address> = []) {
        self.local = local
        self.peers = peers
    }

    public func contains(_ address: IPv4Address) -> Bool { local.contains(address) || peers.contains(address) }

    /// Every IPv4 address and point-to-point peer in the calling thread's network namespace (getifaddrs).
    public static func onThisHost() throws(TunError) -> AddressesInUse {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { throw TunError.from("getifaddrs") }
        defer { freeifaddrs(list) }
        var used = AddressesInUse()
        var entry = list
        while let e = entry {
            if let address = ipv4(e.pointee.ifa_addr) { used.local.insert(address) }
            // ifa_ifu holds the peer only on point-to-point links; elsewhere it is the broadcast address.
            if e.pointee.ifa_flags & UInt32(VSHARE_IFF_POINTOPOINT) != 0,
               let peer = ipv4(e.pointee.ifa_ifu.ifu_dstaddr) {
                used.peers.insert(peer)
            }
            entry = e.pointee.ifa_next
        }
        return used
    }

    private static func ipv4(_ sa: UnsafeMutablePointer<sockaddr>?) -> IPv4Address? {
        guard let sa, sa.pointee.sa_family == sa_family_t(AF_INET) else { return nil }
        let sin = UnsafeRawPointer(sa).loadUnaligned(as: sockaddr_in.self)
        return IPv4Address(UInt32(bigEndian: sin.sin_addr.s_addr))
    }
}

/// Picks the machine IP for a new `vshare connect` TUN and our address on it.
///
/// The machine IP is the requested one (default 172.16.0.2) if no interface on this host uses
/// it, otherwise the next free one in its /24 (wrapping, never .0, .1 or .255): a second connect
/// to another share then gets 172.16.0.3 and both work side by side.
///
/// Our (local) address is .1 of the same /24, shared by every vshare TUN. Sharing is safe on
/// Linux: each TUN carries only a /32 route to its own peer, and an address may sit on several
/// interfaces; it keeps the source address programs see stable and uses up no machine IPs.
/// When .1 cannot be used (it is the machine IP, or some interface's peer, where a local
/// address would steal that tunnel's traffic), we count down from .254.
public enum MachineAddressAllocator {
    public static let defaultMachineAddress = IPv4Address(172, 16, 0, 2)

    public struct Choice: Equatable, Sendable {
        public var machine: IPv4Address
        public var local: IPv4Address

        public init(machine: IPv4Address, local: IPv4Address) {
            self.machine = machine
            self.local = local
        }
    }

    /// The pure rule, for tests: nil when the whole /24 is taken.
    public static func choose(requested: IPv4Address = defaultMachineAddress, inUse: AddressesInUse) -> Choice? {
        let start = requested.lastOctet
        for step in 0..<256 {
            let machine = requested.withLastOctet(start &+ UInt8(truncatingIfNeeded: step))
            guard (1...254).contains(machine.lastOctet), !inUse.contains(machine) else { continue }
            // .1 is where local addresses live: a machine gets it only when asked for by name.
            if step > 0 && machine.lastOctet == 1 { continue }
            guard let local = localAddress(forMachine: machine, inUse: inUse) else { continue }
            return Choice(machine: machine, local: local)
        }
        return nil
    }

    /// Our address for a TUN whose peer is `machine`: .1, else counting down from .254.
    public static func localAddress(forMachine machine: IPv4Address, inUse: AddressesInUse) -> IPv4Address? {
        for host in [UInt8(1)] + (2...254).reversed() {
            let candidate = machine.withLastOctet(host)
            if candidate != machine && !inUse.peers.contains(candidate) { return candidate }
        }
        return nil
    }

    /// Chooses the addresses and creates the TUN while holding the host-wide allocation lock,
    /// so two `vshare connect`s starting together cannot pick the same machine IP.
    public static func openDevice(requested: IPv4Address = defaultMachineAddress, name: String = "vshare%d",
                                  mtu: Int = 65535,
                                  lockPaths: [String] = AllocationLock.defaultPaths) throws(TunError) -> LinuxTun {
        try AllocationLock.holding(paths: lockPaths) { () throws(TunError) -> LinuxTun in
            let inUse = try AddressesInUse.onThisHost()
            guard let choice = choose(requested: requested, inUse: inUse) else {
                throw .noFreeAddress(network: "\(requested.withLastOctet(0))/24")
            }
            return try LinuxTun.open(name: name, localAddress: choice.local, peerAddress: choice.machine, mtu: mtu)
        }
    }
}
