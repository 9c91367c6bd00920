import CShims
import Foundation
import Glibc

/// The pthread that runs the loop, joined on close so close() returns only once all is written.
final class WriterThread: @unchecked Sendable {
    let loop: WriterLoop
    private var thread = pthread_t()
    private let lock = NSLock()
    private var running = false

    init(loop: WriterLoop) { self.loop = loop }

    func start() throws {
        let box = Unmanaged.passRetained(loop)
        let code = pthread_create(&thread, nil, { raw in
            let loop = Unmanaged<WriterLoop>.fromOpaque(raw!).takeRetainedValue()
            WriterThread.name()
            WriterThread.yieldToTheProxy()
            loop.run()
            return nil
        }, box.toOpaque())
        guard code == 0 else {
            box.release()
            throw StoreError.cannotStartWriter(errno: code)
        }
        running = true
    }

    /// Names this thread `vshare-log`, so `top -H` and scripts/bench-store can tell its CPU time from
    /// the event loops' (pthread_setname_np is not visible to Swift; its comm file is the same thing).
    static func name() {
        let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = "vshare-log".withCString { write(fd, $0, strlen($0)) }
        close(fd)
    }

    /// The writer runs at a lower priority (nice +10, this thread only): on a busy relay the event
    /// loops serving requests go first and the log catches up in the gaps, its queue absorbing bursts
    /// (and dropping, counted, if the gaps never come) — the log waits, never the proxy. Measured with
    /// scripts/bench-store (docs/BENCHMARKS.md).
    static func yieldToTheProxy() {
        _ = vshare_lower_thread_priority(10)
    }

    func join() {
        lock.withLock {
            guard running else { return }
            running = false
            pthread_join(thread, nil)
        }
    }
}
