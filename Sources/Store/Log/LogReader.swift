import Foundation

/// Reads the log tables back for the web interface: one share's access log, connect sessions and
/// SSH events, the audit trail (a share's totals are in its `shares` row). Every query walks an index newest first and
/// stops at its limit, so a read stays small however long the log is. Uses its connection from one
/// thread at a time, like SQLiteDatabase (the relay's main connection, never the writer's).
public final class LogReader {
    private let database: SQLiteDatabase
    private static let accessColumns = "id, share, time, client, method, path, status, bytes, duration_ms, user_agent, refusal_reason, aborted"

    public init(database: SQLiteDatabase) {
        self.database = database
    }

    /// How long a search may walk a share's rows: a filter few rows match walks all of them (about
    /// 0.2 s per million), on the event loop that serves the page. Past it: `StoreError.tooSlow`.
    public static let searchTimeLimit = 0.1

    /// One share's requests, newest first, as `filter` selects them.
    public func accessLog(share: String, filter: AccessLogFilter) throws -> [Logged<AccessLogEntry>] {
        try database.withTimeLimit(Self.searchTimeLimit) { try accessLogRows(share: share, filter: filter) }
    }

    private func accessLogRows(share: String, filter: AccessLogFilter) throws -> [Logged<AccessLogEntry>] {
        // Only fixed SQL fragments are joined; every value is a bound parameter (?1...?7).
        // The share's index holds its rows' ids in order (SQLite appends the id to each entry), so a
        // page, an older page (`before`) and a poll for new rows (`after`) are all one range of it,
        // walked newest first; filters are checked on those rows only.
        var clauses = ["share = ?1"]
        if filter.status != nil { clauses.append("status >= ?2 AND status < ?3") }
        if let path = filter.pathContains, !path.isEmpty { clauses.append("path LIKE ?4 ESCAPE '\\'") }
        if filter.before != nil { clauses.append("id < ?5") }
        if filter.after != nil { clauses.append("id > ?6") }
        let statement = try database.prepare("""
            SELECT \(Self.accessColumns) FROM access_log WHERE \(clauses.joined(separator: " AND ")) ORDER BY id DESC LIMIT ?7
            """)
        try statement.bind(share, at: 1)
        if let status = filter.status {
            try statement.bind(status.digit * 100, at: 2)
            try statement.bind(status.digit * 100 + 100, at: 3)
        }
        if let path = filter.pathContains, !path.isEmpty { try statement.bind(AccessLogFilter.likePattern(containing: path), at: 4) }
        if let before = filter.before { try statement.bind(before, at: 5) }
        if let after = filter.after { try statement.bind(after, at: 6) }
        try statement.bind(filter.limit, at: 7)
        var rows: [Logged<AccessLogEntry>] = []
        while try statement.step() == .row {
            rows.append(Logged(id: statement.int64(at: 0), entry: AccessLogEntry(
                share: statement.string(at: 1) ?? "", time: Date(unixMilliseconds: statement.int64(at: 2)),
                client: statement.string(at: 3) ?? "", method: statement.string(at: 4) ?? "", path: statement.string(at: 5) ?? "",
                status: Int(statement.int64(at: 6)), bytes: statement.int64(at: 7), durationMilliseconds: statement.int64(at: 8),
                userAgent: statement.string(at: 9) ?? "", refusalReason: statement.string(at: 10),
                aborted: statement.string(at: 11))))
        }
        return rows
    }

    /// The audit trail, newest first; `before` pages on from a row id.
    public func audit(before: Int64? = nil, limit: Int) throws -> [Logged<AuditEntry>] {
        let statement = try database.prepare(before == nil
            ? "SELECT id, time, actor, action, subject, detail FROM audit ORDER BY id DESC LIMIT ?1"
            : "SELECT id, time, actor, action, subject, detail FROM audit WHERE id < ?2 ORDER BY id DESC LIMIT ?1")
        try statement.bind(limit, at: 1)
        if let before { try statement.bind(before, at: 2) }
        var rows: [Logged<AuditEntry>] = []
        while try statement.step() == .row {
            rows.append(Logged(id: statement.int64(at: 0), entry: AuditEntry(
                time: Date(unixMilliseconds: statement.int64(at: 1)), actor: statement.string(at: 2) ?? "",
                action: statement.string(at: 3) ?? "", subject: statement.string(at: 4) ?? "", detail: statement.string(at: 5) ?? "")))
        }
        return rows
    }

    /// A share's connect sessions, most recently started first.
    public func connectSessions(share: String, limit: Int) throws -> [Logged<ConnectSessionEntry>] {
        let statement = try database.prepare("""
            SELECT id, client, started_at, ended_at FROM connect_sessions WHERE share = ?1 ORDER BY started_at DESC, id DESC LIMIT ?2
            """)
        try statement.bind(share, at: 1)
        try statement.bind(limit, at: 2)
        var rows: [Logged<ConnectSessionEntry>] = []
        while try statement.step() == .row {
            rows.append(Logged(id: statement.int64(at: 0), entry: ConnectSessionEntry(
                share: share, client: statement.string(at: 1) ?? "", startedAt: Date(unixMilliseconds: statement.int64(at: 2)),
                endedAt: statement.optionalInt64(at: 3).map(Date.init(unixMilliseconds:)))))
        }
        return rows
    }

    /// A share's SSH key releases and refused proofs, newest first. A kind this binary does not know
    /// (a newer relay wrote it) is skipped rather than shown wrong.
    public func sshEvents(share: String, limit: Int) throws -> [Logged<SSHEventEntry>] {
        let statement = try database.prepare(
            "SELECT id, time, client, kind FROM ssh_events WHERE share = ?1 ORDER BY time DESC, id DESC LIMIT ?2")
        try statement.bind(share, at: 1)
        try statement.bind(limit, at: 2)
        var rows: [Logged<SSHEventEntry>] = []
        while try statement.step() == .row {
            guard let kind = statement.string(at: 3).flatMap(SSHEventKind.init(rawValue:)) else { continue }
            rows.append(Logged(id: statement.int64(at: 0), entry: SSHEventEntry(
                share: share, time: Date(unixMilliseconds: statement.int64(at: 1)), client: statement.string(at: 2) ?? "", kind: kind)))
        }
        return rows
    }
}
