// How a test on the main thread talks to an event loop running on its own thread (`startThread`):
// every touch of loop-confined objects goes through `sync`, and results are awaited with
// `waitUntil`, a bounded poll, never a fixed sleep.
import Dispatch
import Glibc
import Transport

public extension EventLoop {
    /// Runs `body` on the loop's thread and returns once that loop turn is over, so what `body`
    /// scheduled for the end of the turn (a flush, a packet session's service) has run too.
    @discardableResult
    func sync<T>(_ body: @escaping () -> T) -> T {
        let done = DispatchSemaphore(value: 0)
        let result = ResultBox<T>()
        execute { [self] in
            result.value = body()
            atEndOfTurn { done.signal() }
        }
        done.wait()
        return result.value!
    }

    /// Checks `condition` on the loop's thread until it holds (true) or `timeout` seconds pass (false).
    func waitUntil(timeout: Double = 2, _ condition: @escaping () -> Bool) -> Bool {
        let deadline = MonotonicClock.now() + timeout
        while true {
            if sync(condition) { return true }
            if MonotonicClock.now() > deadline { return false }
            usleep(2_000)
        }
    }
}

/// Carries a result from the loop's thread to the waiting one (the semaphore orders the accesses).
private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}
