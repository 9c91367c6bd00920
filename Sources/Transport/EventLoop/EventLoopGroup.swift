import Glibc
import Synchronization

/// One event loop per core, each on its own thread. New connections are spread round-robin.
public final class EventLoopGroup: Sendable {
    public let loops: [EventLoop]
    private let cursor = Atomic<Int>(0)

    public init(count: Int = EventLoopGroup.coreCount, name: String) throws(SystemError) {
        var loops: [EventLoop] = []
        for i in 0..<max(1, count) { loops.append(try EventLoop(name: "\(name)-\(i)")) }
        self.loops = loops
    }

    public static var coreCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    public func next() -> EventLoop {
        loops[cursor.add(1, ordering: .relaxed).oldValue % loops.count]
    }
}
