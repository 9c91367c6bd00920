import Glibc

/// A host-wide exclusive lock (flock on a well-known file) held from choosing a machine IP
/// until its TUN is configured: only then does the address show up in getifaddrs for the
/// next `vshare connect`. The kernel drops the lock if the process dies.
public struct AllocationLock: ~Copyable {
    /// /run is root's and per-boot; /tmp is the fallback where /run is not writable.
    public static let defaultPaths = ["/run/vshare-connect.lock", "/tmp/vshare-connect.lock"]

    private let fd: Int32
    public let path: String

    /// Blocks until the lock is ours. Tries each path in turn; throws the last failure.
    public init(paths: [String] = defaultPaths) throws(TunError) {
        var failure = TunError.lockFailed(path: paths.first ?? "", errno: ENOENT)
        for path in paths {
            let fd = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
            guard fd >= 0 else { failure = .lockFailed(path: path, errno: errno); continue }
            var rc: Int32
            repeat { rc = flock(fd, LOCK_EX) } while rc != 0 && errno == EINTR
            guard rc == 0 else {
                failure = .lockFailed(path: path, errno: errno)
                Glibc.close(fd)
                continue
            }
            self.fd = fd
            self.path = path
            return
        }
        throw failure
    }

    /// Closing the descriptor releases the lock.
    deinit { Glibc.close(fd) }

    /// Runs `body` while holding the lock; releases it however `body` ends.
    public static func holding<R>(paths: [String] = defaultPaths,
                                  _ body: () throws(TunError) -> R) throws(TunError) -> R {
        let lock = try AllocationLock(paths: paths)
        defer { _ = lock }
        return try body()
    }
}
