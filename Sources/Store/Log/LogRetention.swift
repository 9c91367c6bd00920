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

    /// Age goes by row id: rows are written in time order (near enough: each when it happened), so
    /// the rows older than the limit are the table's first ones, and the walk from the oldest row
    /// stops at the first younger one — no index on a time column to keep up per row. A row logged
    /// out of order (a connect session is logged when it ends) waits for the rows before it.
    func apply(to database: SQLiteDatabase, now: Date, chunk: Int) throws -> Int {
        let cutoff = now.addingTimeInterval(-maxAge).unixMilliseconds
        var deleted = 0
        // Table and column names are our constants; the values are bound.
        for table in Self.tables {
            // The first row young enough to keep; with none, everything goes.
            let firstKept = try database.prepare("""
                SELECT coalesce((SELECT id FROM \(table.name) WHERE \(table.timeColumn) >= ?1 ORDER BY id LIMIT 1),
                                (SELECT max(id) + 1 FROM \(table.name)), 0)
                """)
            try firstKept.bind(cutoff, at: 1)
            _ = try firstKept.step()
            let ageBoundary = firstKept.int64(at: 0)

            // Ids only grow, so everything below the cap-th newest id is beyond the cap.
            let capBoundary = try database.prepare("SELECT id FROM \(table.name) ORDER BY id DESC LIMIT 1 OFFSET ?1")
            try capBoundary.bind(max(maxRowsPerTable - 1, 0), at: 1)
            let boundary = try capBoundary.step() == .row ? max(ageBoundary, capBoundary.int64(at: 0)) : ageBoundary
            let older = try database.prepare(
                "DELETE FROM \(table.name) WHERE id IN (SELECT id FROM \(table.name) WHERE id < ?1 ORDER BY id LIMIT ?2)")
            deleted += try deleteInChunks(older, bound: boundary, chunk: chunk, database: database)
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
