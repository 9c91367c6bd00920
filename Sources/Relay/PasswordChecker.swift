import Dispatch
import Glibc
import Transport

/// Runs `--basic-auth` password checks away from the event loops. A password the relay has not
/// seen verified costs one scrypt (N = 2^14, r = 8: 16 MiB and about 40 ms on the 2-core test VM,
/// measured with Python's `hashlib.scrypt`, which is OpenSSL's); on a loop, a flood of wrong
/// passwords spread over many addresses (each gets its free misses from the guess limiter) would
/// stall every share that loop serves. Here one thread runs the checks in order, at most
/// `capacity` wait, and at most `perClient` of them from one client (an IPv4 address, an IPv6
/// /64): a request beyond either is answered 503 at once. A flood costs at most one core and one
/// scrypt's memory, the loops keep serving, and one client cannot take every place in the queue.
final class PasswordChecker: @unchecked Sendable {
    /// A check and where its answer goes. Both closures stay on the caller's loop except `check`,
    /// which reads only thread-safe state (`ShareAccess` locks its cache).
    private struct Job {
        let check: () -> Bool
        let client: AnyHashable
        let loop: EventLoop
        let reply: (Bool?) -> Void
    }

    let capacity: Int
    let perClient: Int
    private let lock = Lock()
    private var waiting: [Job] = []
    /// Checks queued or running, per client.
    private var held: [AnyHashable: Int] = [:]
    private var started = false
    private let wake = DispatchSemaphore(value: 0)

    init(capacity: Int = 32, perClient: Int = 4) {
        self.capacity = capacity
        self.perClient = perClient
    }

    /// Queues `check` for `client`; `reply` runs on `loop` with its result (nil: no thread could be
    /// started to run it). False when `capacity` checks already wait, or `perClient` of `client`'s
    /// (the caller answers the request itself). The thread starts with the first check, from an
    /// event loop, so it inherits the loops' blocked signals.
    func submit(_ check: @escaping () -> Bool, for client: AnyHashable, on loop: EventLoop,
                reply: @escaping (Bool?) -> Void) -> Bool {
        let (accepted, start) = lock.withLock { () -> (Bool, Bool) in
            guard waiting.count < capacity, held[client, default: 0] < perClient else { return (false, false) }
            waiting.append(Job(check: check, client: client, loop: loop, reply: reply))
            held[client, default: 0] += 1
            defer { started = true }
            return (true, !started)
        }
        guard accepted else { return false }
        if start { startThread() }
        wake.signal()
        return true
    }

    private func run() {
        while true {
            wake.wait()
            guard let job = lock.withLock({ waiting.isEmpty ? nil : waiting.removeFirst() }) else { continue }
            let valid = job.check()
            release(job.client)
            job.loop.execute { job.reply(valid) }
        }
    }

    private func release(_ client: AnyHashable) {
        lock.withLock {
            let left = held[client, default: 1] - 1
            held[client] = left > 0 ? left : nil
        }
    }

    /// A detached pthread named `vshare-passwords` (so `top -H` tells its CPU from the loops'); it
    /// lives as long as the relay process.
    private func startThread() {
        let box = Unmanaged.passRetained(self)
        var thread = pthread_t()
        let code = pthread_create(&thread, nil, { raw in
            let checker = Unmanaged<PasswordChecker>.fromOpaque(raw!).takeRetainedValue()
            let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
            if fd >= 0 {
                _ = "vshare-passwords".withCString { write(fd, $0, strlen($0)) }
                close(fd)
            }
            checker.run()
            return nil
        }, box.toOpaque())
        if code == 0 {
            pthread_detach(thread)
        } else {
            // No thread: every queued check is answered "could not check" (a 503 to the browser).
            box.release()
            let stranded = lock.withLock { () -> [Job] in
                defer { waiting.removeAll(); held.removeAll(); started = false }
                return waiting
            }
            for job in stranded { job.loop.execute { job.reply(nil) } }
        }
    }
}
