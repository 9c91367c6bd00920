import Foundation

/// How long log rows are kept: rows older than `maxAge` go, and each log table keeps at most its
/// newest `maxRowsPerTable` rows (the cap bounds the disk even when traffic outruns the age limit).
/// The audit trail is a log table too: failed logins are audited, so it must not grow without bound.
public struct LogRetention: Sendable, Equatable {
    public var maxAge: TimeInterval
    public var maxRowsPerTable: Int

    /// 30 days (the relay's `--log-retention` default) and ten million rows per table.
    public init(maxAge: TimeInterval = 30 * 86_400, maxRowsPerTable: Int = 10_000_000) {
        self.maxAge = maxAge
        self.maxRowsPerTable = maxRowsPerTable
    }

    /// Each log table and the time column its age is measured by.
    static let tables: [(name: String, timeColumn: String)] = [
        ("access_log", "time"), ("connect_sessions", "started_at"), ("ssh_events", "time"), ("audit", "time"),
    ]

    /// Deletes what the policy no longer keeps; returns how many rows went. Deletes in chunks of
    /// `chunk` rows, one transaction each, so a large first pass never holds the write lock long
    /// enough to stall the relay's other connection (it waits on the lock, up to its busy timeout).
    @discardableResult
    public func apply(to database: SQLiteDatabase, now: Date) throws -> Int {
        try apply(to: database, now: now, chunk: 10_000)
    }

    func apply(to database: SQLiteDatabase, now: Date, chunk: Int) throws -> Int {
        let cutoff = now.addingTimeInterval(-maxAge).unixMilliseconds
        var deleted = 0
        // Table and column names are our constants; the values are bound.
        for table in Self.tables {
            let old = try database.prepare(
                "DELETE FROM \(table.name) WHERE id IN (SELECT id FROM \(table.name) WHERE \(table.timeColumn) < ?1 LIMIT ?2)")
            deleted += try deleteInChunks(old, bound: cutoff, chunk: chunk, database: database)

            // Ids only grow, so everything at or below the (cap + 1)-th newest id is beyond the cap.
            let boundary = try database.prepare("SELECT id FROM \(table.name) ORDER BY id DESC LIMIT 1 OFFSET ?1")
            try boundary.bind(maxRowsPerTable, at: 1)
            guard try boundary.step() == .row else { continue }
            let excess = try database.prepare(
                "DELETE FROM \(table.name) WHERE id IN (SELECT id FROM \(table.name) WHERE id <= ?1 ORDER BY id LIMIT ?2)")
            deleted += try deleteInChunks(excess, bound: boundary.int64(at: 0), chunk: chunk, database: database)
        }
        return deleted
    }

    /// Runs a DELETE taking (value, chunk size) until a chunk deletes less than a whole one.
    private func deleteInChunks(_ delete: SQLiteStatement, bound value: Int64, chunk: Int, database: SQLiteDatabase) throws -> Int {
        var total = 0
        while true {
            let count = try database.inTransaction { () -> Int in
                try delete.bind(value, at: 1)
                try delete.bind(chunk, at: 2)
                try delete.run()
                return database.changes
            }
            total += count
            if count < chunk { return total }
        }
    }
}
