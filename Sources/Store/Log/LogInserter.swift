/// The log writer's prepared INSERTs, one per table, compiled once and reused for every row.
final class LogInserter {
    private let access: SQLiteStatement
    private let audit: SQLiteStatement
    private let connectSession: SQLiteStatement
    private let sshEvent: SQLiteStatement

    init(database: SQLiteDatabase) throws {
        access = try database.prepare("""
            INSERT INTO access_log (share, time, client, method, path, status, bytes, duration_ms, user_agent, refusal_reason)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
            """)
        audit = try database.prepare("INSERT INTO audit (time, actor, action, subject, detail) VALUES (?1, ?2, ?3, ?4, ?5)")
        connectSession = try database.prepare(
            "INSERT INTO connect_sessions (share, client, started_at, ended_at) VALUES (?1, ?2, ?3, ?4)")
        sshEvent = try database.prepare("INSERT INTO ssh_events (share, time, client, kind) VALUES (?1, ?2, ?3, ?4)")
    }

    func insert(_ row: LogRow) throws {
        switch row {
        case let .access(entry):
            try access.bind(entry.share, at: 1)
            try access.bind(entry.time.unixMilliseconds, at: 2)
            try access.bind(entry.client, at: 3)
            try access.bind(entry.method, at: 4)
            try access.bind(entry.path, at: 5)
            try access.bind(entry.status, at: 6)
            try access.bind(entry.bytes, at: 7)
            try access.bind(entry.durationMilliseconds, at: 8)
            try access.bind(entry.userAgent, at: 9)
            try access.bind(entry.refusalReason, at: 10)
            try access.run()
        case let .audit(entry):
            try audit.bind(entry.time.unixMilliseconds, at: 1)
            try audit.bind(entry.actor, at: 2)
            try audit.bind(entry.action, at: 3)
            try audit.bind(entry.subject, at: 4)
            try audit.bind(entry.detail, at: 5)
            try audit.run()
        case let .connectSession(entry):
            try connectSession.bind(entry.share, at: 1)
            try connectSession.bind(entry.client, at: 2)
            try connectSession.bind(entry.startedAt.unixMilliseconds, at: 3)
            try connectSession.bind(entry.endedAt?.unixMilliseconds, at: 4)
            try connectSession.run()
        case let .sshEvent(entry):
            try sshEvent.bind(entry.share, at: 1)
            try sshEvent.bind(entry.time.unixMilliseconds, at: 2)
            try sshEvent.bind(entry.client, at: 3)
            try sshEvent.bind(entry.kind.rawValue, at: 4)
            try sshEvent.run()
        }
    }
}
