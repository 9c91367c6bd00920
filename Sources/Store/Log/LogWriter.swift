import Foundation

/// Writes log rows to the database without ever making the thread that logs wait for the disk.
///
/// Any thread calls `append`; one writer thread of its own, with its own connection, drains the
/// bounded queue and commits a batch per transaction (`batchSize` rows, or whatever arrived
/// within `flushInterval` of the first). When the disk cannot keep up the queue fills and further
/// rows are dropped and counted in `dropped` — a gap in the log, never a stalled proxy. The writer
/// also applies the retention policy at start and every `retentionInterval`.
public final class LogWriter: Sendable {
    public struct Configuration: Sendable {
        /// Rows queued or being written at most; beyond it rows are dropped.
        public var capacity = 65_536
        /// Bytes of packed rows queued at most (and as much again being written): beyond it rows are
        /// dropped too. 8 MiB holds about 60 000 typical access rows.
        public var bufferBytes = 8 << 20
        /// Rows that wake the writer before its flush interval is up. Larger batches mean fewer
        /// commits, each rewriting the tables' last pages into the WAL once.
        public var batchSize = 4_096
        /// Seconds a row waits for a fuller batch at most.
        public var flushInterval = 0.1
        /// nil: keep everything.
        public var retention: LogRetention? = LogRetention()
        /// Seconds between retention passes.
        public var retentionInterval = 60.0

        public init() {}
    }

    private let queue: LogQueue
    private let thread: WriterThread

    /// Opens its own connection to the database at `path` (migrating it if needed, so rows never go
    /// into a file without the log tables) and starts the writer thread. `now` dates retention.
    public convenience init(path: String, configuration: Configuration = Configuration(),
                            now: @escaping @Sendable () -> Date = Date.init) throws {
        let database = try SQLiteDatabase(path: path)
        try Schema.migrate(database)
        try self.init(database: database, configuration: configuration, now: now)
    }

    /// Starts the writer thread on `database`, which from now on belongs to that thread.
    init(database: sending SQLiteDatabase, configuration: Configuration, now: @escaping @Sendable () -> Date) throws {
        queue = LogQueue(capacity: configuration.capacity, batchSize: configuration.batchSize, bufferBytes: configuration.bufferBytes)
        let drain = try WriterLoop(database: database, queue: queue, configuration: configuration, now: now)
        thread = WriterThread(loop: drain)
        try thread.start()
    }

    deinit { close() }

    /// Queues a row; false if it was dropped (queue full, or the writer closed).
    @discardableResult
    public func append(_ row: LogRow) -> Bool { queue.append(row) }

    /// Rows committed so far.
    public var written: Int { queue.counts().written }

    /// Rows lost so far: dropped at a full queue, or in a batch the database refused.
    public var dropped: Int { queue.counts().dropped }

    /// The last database error the writer met, if any (its rows are counted in `dropped`).
    public var lastError: StoreError? { thread.loop.lastError }

    /// A new retention policy, applied from the writer's next pass (at most `retentionInterval` away).
    public func setRetention(_ retention: LogRetention?) { thread.loop.setRetention(retention) }

    /// Writes what is queued, then stops the writer thread. Later appends are dropped. Idempotent.
    public func close() {
        queue.close()
        thread.join()
    }
}
