import Store
@testable import Relay

/// Live shares in memory; records what was expired.
final class FakeDirectory: AdminShareDirectory, @unchecked Sendable {
    var shares: [AdminShare]
    var expired: [String] = []
    var origins: [AdminExpireOrigin] = []
    init(_ shares: [AdminShare]) { self.shares = shares }
    func liveShares(for user: AdminUser) -> [AdminShare] { shares }
    func expire(_ name: String, by user: AdminUser, from origin: AdminExpireOrigin) -> AdminExpireOutcome {
        origins.append(origin)
        guard let share = shares.first(where: { $0.name == name }) else { return .notFound }
        guard user.isAdmin || share.owner == user.name else { return .forbidden }
        shares.removeAll { $0.name == name }
        expired.append(name)
        return .expired
    }
}

/// Records in memory: each share's owner and rows; remembers the last filter asked for and every
/// audit event the app recorded.
final class FakeLogBook: AdminLogBook, @unchecked Sendable {
    var owners: [String: String] = [:]
    var logs: [String: AdminShareLog] = [:]
    var ended: [AdminEndedShare] = []
    var auditRows: [AdminAuditRow] = []
    var dropped = 0
    var lastFilter: AccessLogFilter?
    var lastAuditBefore: Int64??
    var events: [AdminAuditEvent] = []

    func history(for user: AdminUser, limit: Int) -> [AdminEndedShare] {
        ended.filter { user.isAdmin || $0.owner == user.name }
    }

    /// Searches of this share run past their time limit.
    var slowShare: String?

    func shareLog(_ name: String, filter: AccessLogFilter, for user: AdminUser) -> AdminLookup<AdminShareLog> {
        if name == slowShare { return .tooSlow("the search took longer than 100 ms and was stopped: narrow it") }
        guard let owner = owners[name] else { return .notFound }
        guard user.isAdmin || owner == user.name else { return .forbidden }
        lastFilter = filter
        let log = logs[name] ?? AdminShareLog(rows: [])
        return .found(AdminShareLog(rows: Array(log.rows.prefix(filter.limit)), connectSessions: log.connectSessions, sshEvents: log.sshEvents))
    }

    func audit(before: Int64?, limit: Int) -> [AdminAuditRow] {
        lastAuditBefore = .some(before)
        return Array(auditRows.prefix(limit))
    }

    var droppedLogRows: Int { dropped }

    func record(_ event: AdminAuditEvent) { events.append(event) }
}

/// Tokens of several users.
struct FakeAuthenticator: AdminAuthenticator {
    let users: [String: AdminUser]
    func authenticate(token: String) -> AdminUser? { users[token] }
}
