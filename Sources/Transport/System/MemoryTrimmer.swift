import CShims

/// Gives memory back to the system after a burst. glibc keeps what freed connections used in its
/// arenas (a relay that served 5,000 clients stayed at 108 MB after they left, 28 MB before);
/// that is retention, not a leak, and `malloc_trim` returns it. Checking costs one `mallinfo2`
/// every few seconds; trimming happens only when much is free, so a steady process never pays.
public enum MemoryTrimmer {
    /// Free bytes in malloc's arenas above which a check trims.
    public static let threshold = 8 << 20

    /// Checks every `interval` seconds on `loop` (one loop per process is enough: a trim covers
    /// every thread's arena).
    public static func start(on loop: EventLoop, every interval: Double = 5) {
        loop.schedule(after: interval) {
            trimIfWorthIt()
            start(on: loop, every: interval)
        }
    }

    /// Trims when more than `threshold` bytes lie free; returns whether it did.
    @discardableResult
    public static func trimIfWorthIt() -> Bool {
        guard vshare_malloc_free_bytes() > threshold else { return false }
        vshare_malloc_trim()
        return true
    }
}
