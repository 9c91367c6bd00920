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

    /// Deletes what the policy no longer keeps, in one transaction; returns how many rows went.
    @discardableResult
    public func apply(to database: SQLiteDatabase, now: Date) throws -> Int {
        let cutoff = now.addingTimeInterval(-maxAge).unixMilliseconds
        return try database.inTransaction {
            var deleted = 0
            // Table and column names are our constants; the values are bound.
            for table in Self.tables {
                let old = try database.prepare("DELETE FROM \(table.name) WHERE \(table.timeColumn) < ?1")
                try old.bind(cutoff, at: 1)
                try old.run()
                deleted += database.changes
                // Ids only grow, so everything at or below the (cap + 1)-th newest id is beyond the cap.
                let excess = try database.prepare(
                    "DELETE FROM \(table.name) WHERE id <= (SELECT id FROM \(table.name) ORDER BY id DESC LIMIT 1 OFFSET ?1)")
                try excess.bind(maxRowsPerTable, at: 1)
                try excess.run()
                deleted += database.changes
            }
            return deleted
        }
    }
}
