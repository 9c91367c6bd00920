import Glibc

/// Descriptors held back for the moment they are needed most: a process that may run out of
/// descriptors (one per client) opens a few of /dev/null at start and closes them just before a
/// step that must not fail for want of one (removing the share's SSH key at the end).
public final class DescriptorReserve {
    private var fds: [Int32]

    /// Opens `count` descriptors (fewer if the process is already short of them).
    public init(count: Int) {
        fds = (0..<count).map { _ in open("/dev/null", O_RDONLY | O_CLOEXEC) }.filter { $0 >= 0 }
    }

    deinit { release() }

    /// Descriptors still held.
    public var count: Int { fds.count }

    /// Closes the held descriptors: as many become free for what comes next.
    public func release() {
        for fd in fds { close(fd) }
        fds.removeAll()
    }
}
