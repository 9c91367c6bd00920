import Glibc

/// The bounded hand-off between the threads that log and the log writer's thread.
///
/// Appending takes a mutex for the copy of one row's bytes (`PackedRows`) and never waits for the
/// disk: when `capacity` rows are queued or being written, or the row's bytes do not fit, the row is
/// dropped and counted. The writer takes everything queued at once (swapping two buffers allocated
/// at start, so the lock is held for O(1) and nothing is allocated per row), and rows it is writing
/// still count against the capacity, so memory stays bounded however slow the disk is.
final class LogQueue: @unchecked Sendable {
    let capacity: Int
    private let batchSize: Int
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var pending: PackedRows
    private var inFlight = 0
    private var closed = false
    private var nudged = false
    private var dropped = 0
    private var written = 0

    /// `bufferBytes`: the size of the queue's buffer (and of the writer's, `makeBatch`).
    init(capacity: Int, batchSize: Int, bufferBytes: Int) {
        self.capacity = capacity
        self.batchSize = batchSize
        pending = PackedRows(capacity: bufferBytes)
        pthread_mutex_init(&mutex, nil)
        // Deadlines on the monotonic clock, so a wall-clock jump neither stalls nor hurries the writer.
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(&condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(&condition)
        pthread_mutex_destroy(&mutex)
    }

    /// The writer's buffer, the same size as the queue's: `take` swaps the two.
    func makeBatch() -> PackedRows { PackedRows(capacity: pending.capacity) }

    /// Queues a row, or drops and counts it when full or closed. Wakes the writer only when the
    /// queue becomes non-empty or reaches a batch, not for every row.
    func append(_ row: LogRow) -> Bool {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        guard !closed, pending.rows + inFlight < capacity, pending.append(row) else {
            dropped += 1
            return false
        }
        if pending.rows == 1 || pending.rows == batchSize { pthread_cond_signal(&condition) }
        return true
    }

    /// The writer's wait: returns when a batch is full, `flushInterval` seconds after the first
    /// queued row, at `wakeBy` (monotonic seconds) with nothing queued, or on close. Moves what is
    /// queued into `batch` (emptied first; a buffer from `makeBatch`) and returns whether the queue
    /// is closed.
    func take(into batch: inout PackedRows, flushInterval: Double, wakeBy: Double) -> Bool {
        batch.removeAll()
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        while pending.isEmpty && !closed && !nudged {
            if !wait(until: wakeBy) { break }
        }
        nudged = false
        if !pending.isEmpty && !closed {
            let deadline = Self.monotonicNow() + flushInterval
            while pending.rows < batchSize && !closed {
                if !wait(until: deadline) { break }
            }
        }
        swap(&batch, &pending)
        inFlight += batch.rows
        return closed
    }

    /// The writer reports rows it has finished with, committed or lost.
    func finished(committed: Int, lost: Int) {
        pthread_mutex_lock(&mutex)
        inFlight -= committed + lost
        written += committed
        dropped += lost
        pthread_mutex_unlock(&mutex)
    }

    /// Wakes the writer from a wait with nothing queued (its settings changed).
    func nudge() {
        pthread_mutex_lock(&mutex)
        nudged = true
        pthread_cond_signal(&condition)
        pthread_mutex_unlock(&mutex)
    }

    func close() {
        pthread_mutex_lock(&mutex)
        closed = true
        pthread_cond_signal(&condition)
        pthread_mutex_unlock(&mutex)
    }

    /// Counters read from any thread.
    func counts() -> (written: Int, dropped: Int) {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return (written, dropped)
    }

    /// Waits on the condition until the monotonic `deadline`; false once it has passed.
    private func wait(until deadline: Double) -> Bool {
        var time = timespec()
        time.tv_sec = Int(deadline)
        time.tv_nsec = Int((deadline - Double(time.tv_sec)) * 1_000_000_000)
        return pthread_cond_timedwait(&condition, &mutex, &time) != ETIMEDOUT
    }

    static func monotonicNow() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1_000_000_000
    }
}
