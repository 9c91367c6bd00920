import Glibc

/// A host-wide exclusive lock (flock on a well-known file) held from choosing a machine IP
/// until its TUN is configured: only then does the address show up in getifaddrs for the
/// next `vshare connect`. The kernel drops the lock if the process dies; a holder that hangs is
/// waited for `timeout` seconds, not forever. The file is root's own (0600, never a link
/// followed): it sits in /tmp where /run is not writable.
public struct AllocationLock: ~Copyable {
    /// /run is root's and per-boot; /tmp is the fallback where /run is not writable.
    public static let defaultPaths = ["/run/vshare-connect.lock", "/tmp/vshare-connect.lock"]

    private let fd: Int32
    public let path: String

    /// How long a holder is waited for by default: setting up an interface takes milliseconds.
    public static let defaultTimeout = 10.0

    /// Waits until the lock is ours, at most `timeout` seconds (then `.lockTimedOut`). Tries each
    /// path in turn; throws the last failure.
    public init(paths: [String] = defaultPaths, timeout: Double = defaultTimeout) throws(TunError) {
        var failure = TunError.lockFailed(path: paths.first ?? "", errno: ENOENT)
        for path in paths {
            let fd = Glibc.open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard fd >= 0 else { failure = .lockFailed(path: path, errno: errno); continue }
            if let error = Self.lock(fd, path: path, timeout: timeout) {
                Glibc.close(fd)
                if case .lockTimedOut = error { throw error }   // held by a live process: not a path problem
                failure = error
                continue
            }
            self.fd = fd
            self.path = path
            return
        }
        throw failure
    }

    /// Polls a non-blocking flock (every 20 ms) until it succeeds or `timeout` passes.
    private static func lock(_ fd: Int32, path: String, timeout: Double) -> TunError? {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let deadline = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9 + timeout
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else { return .lockFailed(path: path, errno: errno) }
            clock_gettime(CLOCK_MONOTONIC, &now)
            if Double(now.tv_sec) + Double(now.tv_nsec) / 1e9 >= deadline {
                return .lockTimedOut(path: path, seconds: timeout)
            }
            usleep(20_000)
        }
        return nil
    }

    /// Closing the descriptor releases the lock.
    deinit { Glibc.close(fd) }

    /// Runs `body` while holding the lock; releases it however `body` ends.
    public static func holding<R>(paths: [String] = defaultPaths, timeout: Double = defaultTimeout,
                                  _ body: () throws(TunError) -> R) throws(TunError) -> R {
        let lock = try AllocationLock(paths: paths, timeout: timeout)
        defer { _ = lock }
        return try body()
    }
}
