import CShims
import Glibc
import Synchronization

/// Something that wants to hear when its file descriptor is ready.
public protocol IOHandler: AnyObject {
    /// Called on the loop's thread with the epoll event mask.
    func handleIO(events: UInt32)
}

public enum IOInterest {
    public static let read = VSHARE_EPOLLIN | VSHARE_EPOLLRDHUP
    public static let write = VSHARE_EPOLLOUT
    public static let none: UInt32 = 0
    public static let error = VSHARE_EPOLLERR | VSHARE_EPOLLHUP
}

/// One thread, one epoll instance, timers and a cross-thread task queue.
///
/// Everything registered with a loop (sockets, TLS sessions, tunnel connections) is confined to
/// that loop's thread. Other threads reach it only through `execute`, whose closures must touch
/// nothing but objects owned by this loop; that rule is what makes the `@unchecked Sendable` safe.
public final class EventLoop: @unchecked Sendable {
    public let name: String
    private let epoll: Int32
    private let wakeFD: Int32
    private var registrations: [UInt64: (fd: Int32, handler: IOHandler)] = [:]
    private var interests: [Int32: UInt32] = [:]
    private var tokensByFD: [Int32: UInt64] = [:]
    private var nextToken: UInt64 = 1
    private var timers = TimerHeap()
    private var endOfTurn: [() -> Void] = []
    private let inboxLock = Lock()
    private var inbox: [() -> Void] = []
    private let stopped = Atomic<Bool>(false)
    /// Time spent handling events, timers and tasks (not waiting or spinning), for metrics.
    private let busyNanoseconds = Atomic<Int>(0)
    /// After a turn that handled I/O, poll (yielding the CPU) for up to this long before
    /// sleeping in epoll_wait. On virtual machines a sleeping CPU takes tens of microseconds
    /// to wake, once per hop; an answer that arrives within the spin skips that cost. Zero
    /// turns it off; the spin yields to any runnable thread, so bulk transfers lose nothing.
    public var spinMicroseconds: Double = 0
    /// What the roles use unless told otherwise (`VSHARE_BUSY_POLL`): measured in
    /// docs/BENCHMARKS.md, 100 µs halves the connect path's round trip on a 2-core VM.
    public static let defaultSpinMicroseconds = 100.0

    public init(name: String) throws(SystemError) {
        self.name = name
        epoll = vshare_epoll_create()
        guard epoll >= 0 else { throw SystemError("epoll_create1") }
        wakeFD = vshare_eventfd()
        guard wakeFD >= 0 else { throw SystemError("eventfd") }
        _ = vshare_epoll_ctl(epoll, EPOLL_CTL_ADD, wakeFD, VSHARE_EPOLLIN, 0)
    }

    deinit {
        Glibc.close(epoll)
        Glibc.close(wakeFD)
        sharedReadBuffer.deallocate()
    }

    /// One read buffer for the socket endpoints of this loop (used on the loop thread only). A
    /// read is handed on within the call and what the other side does not take is copied out, so
    /// one buffer serves every socket: a connection costs no read buffer of its own, idle or busy.
    public let sharedReadBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)

    // MARK: Registration (loop thread only)

    public func register(fd: Int32, interest: UInt32, handler: IOHandler) throws(SystemError) {
        let token = nextToken
        nextToken += 1
        guard vshare_epoll_ctl(epoll, EPOLL_CTL_ADD, fd, interest, token) == 0 else { throw SystemError("epoll_ctl ADD") }
        registrations[token] = (fd, handler)
        tokensByFD[fd] = token
        interests[fd] = interest
    }

    /// Changes what `fd` waits for; a no-op (no system call) when nothing changes.
    public func modify(fd: Int32, interest: UInt32) {
        guard let token = tokensByFD[fd], interests[fd] != interest else { return }
        interests[fd] = interest
        _ = vshare_epoll_ctl(epoll, EPOLL_CTL_MOD, fd, interest, token)
    }

    /// Stops watching `fd`. Call before closing it; events already fetched for it are dropped.
    public func deregister(fd: Int32) {
        guard let token = tokensByFD.removeValue(forKey: fd) else { return }
        registrations[token] = nil
        interests[fd] = nil
        _ = vshare_epoll_ctl(epoll, EPOLL_CTL_DEL, fd, 0, 0)
    }

    // MARK: Timers (loop thread only)

    @discardableResult
    public func schedule(after seconds: Double, _ action: @escaping () -> Void) -> UInt64 {
        timers.add(deadline: MonotonicClock.now() + seconds, action)
    }

    public func cancelTimer(_ id: UInt64) { timers.cancel(id) }

    /// Runs `action` once the events of the current turn are handled (loop thread only). Writers use
    /// it to coalesce what many ready sockets produced into one system call.
    public func atEndOfTurn(_ action: @escaping () -> Void) { endOfTurn.append(action) }

    // MARK: Cross-thread

    /// Runs `task` on this loop's thread soon. Safe from any thread.
    public func execute(_ task: @escaping () -> Void) {
        inboxLock.withLock { inbox.append(task) }
        var one: UInt64 = 1
        _ = Glibc.write(wakeFD, &one, 8)
    }

    public func stop() {
        stopped.store(true, ordering: .sequentiallyConsistent)
        var one: UInt64 = 1
        _ = Glibc.write(wakeFD, &one, 8)
    }

    // MARK: Running

    /// Runs the loop on the calling thread until `stop()`.
    public func run() {
        var events = [UInt32](repeating: 0, count: 256)
        var tokens = [UInt64](repeating: 0, count: 256)
        var spinUntil = 0.0
        while !stopped.load(ordering: .relaxed) {
            var timeout: Int32 = -1
            if let deadline = timers.nextDeadline {
                let ms = (deadline - MonotonicClock.now()) * 1000
                timeout = ms <= 0 ? 0 : Int32(min(ms.rounded(.up), 60_000))
            }
            var count: Int32 = 0
            if spinUntil > 0 && timeout != 0 {
                // Poll without sleeping until something arrives or the spin runs out.
                while true {
                    count = vshare_epoll_wait(epoll, &events, &tokens, 256, 0)
                    if count != 0 || MonotonicClock.now() >= spinUntil { break }
                    sched_yield()
                }
            }
            if count == 0 {
                count = vshare_epoll_wait(epoll, &events, &tokens, 256, timeout)
            }
            if count < 0 && errno != EINTR { fatalError("\(SystemError("epoll_wait"))") }
            let turnStart = MonotonicClock.now()
            spinUntil = count > 0 && spinMicroseconds > 0 ? turnStart + spinMicroseconds / 1e6 : 0
            for i in 0..<Int(max(count, 0)) {
                if tokens[i] == 0 {
                    drainWakeups()
                } else if let registration = registrations[tokens[i]] {
                    registration.handler.handleIO(events: events[i])
                }
            }
            runInbox()
            for action in timers.popDue(now: MonotonicClock.now()) { action() }
            while !endOfTurn.isEmpty {
                let actions = endOfTurn
                endOfTurn.removeAll(keepingCapacity: true)
                for action in actions { action() }
            }
            busyNanoseconds.add(Int((MonotonicClock.now() - turnStart) * 1e9), ordering: .relaxed)
        }
    }

    /// Seconds this loop has spent working since it started (a counter: its rate is how busy the
    /// loop's thread is, from 0 to 1). Safe from any thread.
    public var busySeconds: Double { Double(busyNanoseconds.load(ordering: .relaxed)) / 1e9 }

    /// Starts the loop on a new thread.
    public func startThread() {
        let thread = LoopThread(loop: self)
        thread.start()
    }

    private func drainWakeups() {
        var value: UInt64 = 0
        _ = Glibc.read(wakeFD, &value, 8)
    }

    private func runInbox() {
        let tasks = inboxLock.withLock { () -> [() -> Void] in
            let taken = inbox
            inbox.removeAll(keepingCapacity: true)
            return taken
        }
        for task in tasks { task() }
    }
}

/// A pthread running one loop.
private final class LoopThread: @unchecked Sendable {
    let loop: EventLoop
    init(loop: EventLoop) { self.loop = loop }

    func start() {
        let box = Unmanaged.passRetained(self)
        var thread = pthread_t()
        pthread_create(&thread, nil, { raw in
            let me = Unmanaged<LoopThread>.fromOpaque(raw!).takeRetainedValue()
            me.loop.run()
            return nil
        }, box.toOpaque())
        pthread_detach(thread)
    }
}
