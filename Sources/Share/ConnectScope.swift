import Glibc

/// Which ports of the machine `vshare connect` peers may reach (`vshare share --all-ports`,
/// `--ports LIST`, `--no-connect`; `.automatic` without them).
public enum ConnectPorts: Equatable, Sendable {
    /// Every port, unless the target is the share's own host: then only the shared ones.
    case automatic
    /// `--all-ports`: every port.
    case all
    /// `--ports 22,5432`: exactly these.
    case only([UInt16])
    /// `--no-connect`: connect sessions are refused.
    case off
}

/// The share's connect scope: `ConnectPorts` resolved against the share's target.
///
/// Whole-machine access is the point of sharing a VM or a container, but when the target is the
/// host the agent runs on (the default 127.0.0.1, or one of its own addresses), "every port" would
/// be every local service of the sharer's own computer — databases, dev servers, admin sockets
/// bound to loopback. So by default such a share opens only what it already shares (HTTP, HTTPS,
/// SSH), and says so; `--all-ports` or `--ports` widen it on purpose.
struct ConnectScope: Equatable, Sendable {
    /// The resolved scope: never `.automatic`.
    let ports: ConnectPorts
    /// The target is this host (wording of `summary`).
    let targetIsThisHost: Bool
    /// `.automatic` narrowed the scope to the shared ports (`summary` says how to widen it).
    let narrowedAutomatically: Bool

    init(config: ShareConfig, targetIsThisHost: Bool) {
        self.targetIsThisHost = targetIsThisHost
        switch config.connectPorts {
        case .automatic where targetIsThisHost:
            ports = .only(Self.sharedPorts(of: config))
            narrowedAutomatically = true
        case .automatic:
            ports = .all
            narrowedAutomatically = false
        case .all, .only, .off:
            ports = config.connectPorts
            narrowedAutomatically = false
        }
    }

    /// The ports the share offers anyway, in the order the share prints them: HTTP (unless
    /// `--disable-http`), HTTPS, SSH (`--ssh`).
    static func sharedPorts(of config: ShareConfig) -> [UInt16] {
        var ports: [UInt16] = []
        for port in [config.disableHTTP ? nil : config.httpPort, config.httpsPort, config.ssh?.port] {
            if let port, !ports.contains(port) { ports.append(port) }
        }
        return ports
    }

    /// `--no-connect`: no connect session at all.
    var isOff: Bool { ports == .off }

    func allows(port: UInt16) -> Bool {
        switch ports {
        case .all, .automatic: true
        case .only(let list): list.contains(port)
        case .off: false
        }
    }

    /// The line the share prints about connect.
    var summary: String {
        let host = targetIsThisHost ? "this host (it is the share's target)" : "the machine"
        switch ports {
        case .off:
            return "Connect is off (--no-connect): vshare connect cannot reach the machine."
        case .all, .automatic:
            return "Connect reaches every port of \(host)."
        case .only(let list):
            let reach = list.isEmpty ? "no port" : (list.count == 1 ? "only port " : "only ports ") + list.map(String.init).joined(separator: ", ")
            let widen = narrowedAutomatically ? "; pass --all-ports to open every port, or --ports to choose." : "."
            return "Connect reaches \(reach) of \(host)\(widen)"
        }
    }
}

extension ConnectScope {
    /// Whether `address` (the share's target as resolved, numeric: ShareAgent's `targetAddress`) is
    /// this host: a loopback or unspecified address, or an address of one of this host's interfaces
    /// (getifaddrs). When the answer is unknown (the interfaces cannot be listed, or `address` is a
    /// name) it is yes: the narrower scope is the safe mistake.
    static func targetIsThisHost(_ address: String) -> Bool {
        guard let interfaces = InterfaceAddresses.ofThisHost() else { return true }
        return isThisHost(address, interfaceAddresses: interfaces)
    }

    /// The decision, given this host's interface addresses (numeric strings, IPv6 may carry a %scope).
    static func isThisHost(_ address: String, interfaceAddresses: [String]) -> Bool {
        guard let target = IPAddressBytes(numeric: address) else { return true }
        if target.isLoopbackOrUnspecified { return true }
        return interfaceAddresses.contains { IPAddressBytes(numeric: $0) == target }
    }
}

/// An IPv4 (4 bytes) or IPv6 (16 bytes) address in binary form, so that different spellings of one
/// address (`::1`, `0:0::1`, `::ffff:10.0.0.1` for `10.0.0.1`) compare equal.
struct IPAddressBytes: Equatable {
    let bytes: [UInt8]

    init?(numeric text: String) {
        let address = text.split(separator: "%", maxSplits: 1).first.map(String.init) ?? text
        var v4 = in_addr(), v6 = in6_addr()
        if inet_pton(AF_INET, address, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
        } else if inet_pton(AF_INET6, address, &v6) == 1 {
            let all = withUnsafeBytes(of: &v6) { Array($0) }
            // IPv4-mapped (::ffff:a.b.c.d) is the IPv4 address.
            bytes = all[0..<10].allSatisfy { $0 == 0 } && all[10] == 0xff && all[11] == 0xff ? Array(all[12...]) : all
        } else {
            return nil
        }
    }

    /// 127.0.0.0/8, ::1, and 0.0.0.0 / :: (connecting to the unspecified address reaches this host on Linux).
    var isLoopbackOrUnspecified: Bool {
        if bytes.count == 4 { return bytes[0] == 127 || bytes.allSatisfy { $0 == 0 } }
        return bytes.dropLast().allSatisfy { $0 == 0 } && bytes[15] <= 1
    }
}
