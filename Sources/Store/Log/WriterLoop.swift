import Foundation
import Synchronization

/// The writer thread's work: take a batch, commit it, keep retention on schedule.
final class WriterLoop: @unchecked Sendable {
    private let database: SQLiteDatabase
    private let inserter: LogInserter
    private let queue: LogQueue
    private let configuration: LogWriter.Configuration
    private let now: @Sendable () -> Date
    private let errorLock = NSLock()
    private var error: StoreError?
    /// Starts as the configuration's; `LogWriter.setRetention` changes it while the thread runs.
    private let retention: Mutex<LogRetention?>

    init(database: sending SQLiteDatabase, queue: LogQueue, configuration: LogWriter.Configuration,
         now: @escaping @Sendable () -> Date) throws {
        self.database = database
        self.inserter = try LogInserter(database: database)
        self.queue = queue
        self.configuration = configuration
        self.now = now
        retention = Mutex(configuration.retention)
    }

    /// A new policy, applied at the next pass (at most `retentionInterval` away); the writer is
    /// woken in case it waits with nothing queued and no policy (an hour's wait).
    func setRetention(_ new: LogRetention?) {
        retention.withLock { $0 = new }
        queue.nudge()
    }

    var lastError: StoreError? { errorLock.withLock { error } }

    func run() {
        var batch = queue.makeBatch()
        var nextRetention = LogQueue.monotonicNow()
        while true {
            if LogQueue.monotonicNow() >= nextRetention {
                applyRetention()
                nextRetention = LogQueue.monotonicNow() + configuration.retentionInterval
            }
            // With no retention, wake hourly anyway: a finite deadline keeps the wait simple.
            let wakeBy = retention.withLock({ $0 }) == nil ? LogQueue.monotonicNow() + 3_600 : nextRetention
            let closed = queue.take(into: &batch, flushInterval: configuration.flushInterval, wakeBy: wakeBy)
            if !batch.isEmpty { commit(batch) }
            if closed && batch.isEmpty { return }
        }
    }

    /// One transaction per batch: a batch is what arrived within the flush interval (or a full
    /// `batchSize`), at most the queue's capacity.
    private func commit(_ rows: PackedRows) {
        do {
            try database.inTransaction { try inserter.insert(rows) }
            queue.finished(committed: rows.rows, lost: 0)
        } catch {
            record(error)
            queue.finished(committed: 0, lost: rows.rows)
        }
    }

    private func applyRetention() {
        guard let retention = retention.withLock({ $0 }) else { return }
        do { try retention.apply(to: database, now: now()) } catch { record(error) }
    }

    private func record(_ error: any Error) {
        let storeError = error as? StoreError ?? .sqlite(operation: "write log rows", path: database.path, code: -1, message: "\(error)")
        errorLock.withLock { self.error = storeError }
    }
}
