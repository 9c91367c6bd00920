import Glibc

/// Why the TUN interface could not be set up or used. Descriptions say what to do.
public enum TunError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Not allowed to create or configure the interface (EPERM/EACCES), or /dev/net/tun is missing.
    case needsPrivileges(call: String, errno: Int32)
    /// The requested interface name is longer than the kernel allows (15 bytes).
    case invalidName(String)
    /// An interface with this name exists and is not ours to attach to.
    case nameInUse(String)
    /// Every address of the /24 is taken by some interface on this host.
    case noFreeAddress(network: String)
    /// The allocation lock file could not be opened or locked.
    case lockFailed(path: String, errno: Int32)
    /// Another process held the allocation lock for longer than setting up an interface takes.
    case lockTimedOut(path: String, seconds: Double)
    /// The kernel refused a packet we wrote (malformed or larger than the MTU).
    case packetRejected(errno: Int32)
    /// Any other failed system call.
    case system(call: String, errno: Int32)

    public var description: String {
        switch self {
        case .needsPrivileges(let call, let errno) where errno == ENOENT || errno == ENODEV || errno == ENXIO:
            return "the TUN driver is not available (\(call): \(Self.text(errno))): load it with `modprobe tun`, "
                + "or in a container pass --device /dev/net/tun and --cap-add NET_ADMIN. "
                + "The SOCKS5 proxy works without it."
        case .needsPrivileges(let call, let errno):
            return "creating the virtual network interface needs root or CAP_NET_ADMIN (\(call): \(Self.text(errno))). "
                + "Run as root, or grant the capability once with `setcap cap_net_admin+ep $(command -v vshare)`. "
                + "The SOCKS5 proxy works without it."
        case .invalidName(let name):
            return "interface name \"\(name)\" is too long or invalid: use at most 15 characters, e.g. vshare%d"
        case .nameInUse(let name):
            return "an interface named \(name) already exists: choose another name or remove it"
        case .noFreeAddress(let network):
            return "no free address for the machine in \(network): every one is used by an interface on this host; "
                + "choose another machine address"
        case .lockFailed(let path, let errno):
            return "cannot lock \(path) (\(Self.text(errno))): make /run or /tmp writable"
        case .lockTimedOut(let path, let seconds):
            return "another vshare connect held \(path) for over \(Int(seconds)) s while choosing a machine address; "
                + "if it is stuck, stop it (`fuser -v \(path)` shows which process holds it) and try again, or pass --ip ADDRESS"
        case .packetRejected(let errno):
            return "the kernel rejected a packet written to the TUN interface (\(Self.text(errno)))"
        case .system(let call, let errno):
            return "\(call) failed: \(Self.text(errno)) (errno \(errno))"
        }
    }

    /// True when the fix is privileges or the driver, not a bug: the caller may go on with SOCKS only.
    public var isPermissionProblem: Bool {
        if case .needsPrivileges = self { return true }
        return false
    }

    /// Classifies a failed call: permission errors get their own case; so do "no such file or
    /// device" errors, but only when opening /dev/net/tun (on an ioctl, ENODEV means the
    /// interface vanished).
    static func from(_ call: String, errno: Int32 = Glibc.errno, openingDriver: Bool = false) -> TunError {
        switch errno {
        case EPERM, EACCES: return .needsPrivileges(call: call, errno: errno)
        case ENOENT, ENODEV, ENXIO:
            // (A `where` after a case list would guard only its last pattern.)
            return openingDriver ? .needsPrivileges(call: call, errno: errno) : .system(call: call, errno: errno)
        default: return .system(call: call, errno: errno)
        }
    }

    private static func text(_ errno: Int32) -> String { String(cString: strerror(errno)) }
}
