import Foundation
import Store

/// The relay's database as the web interface reads it (`AdminLogBook`): `admin` sees every
/// share's records, any other user only those of shares their user made (matched by user id, so
/// a removed user's name given to someone new does not inherit the old shares).
final class RelayLogBook: AdminLogBook, @unchecked Sendable {
    private let store: RelayStore
    /// Connect sessions and SSH events shown with a share's log (the newest of each).
    static let sideRows = 20

    init(store: RelayStore) { self.store = store }

    func history(for user: AdminUser, limit: Int) -> [AdminEndedShare] {
        let owner: Int64?
        if user.isAdmin {
            owner = nil
        } else {
            guard let id = store.userID(named: user.name) else { return [] }
            owner = id
        }
        let names = store.owners()
        return store.history(owner: owner, limit: limit).map { record in
            let ended = record.endedAt ?? record.createdAt
            return AdminEndedShare(
                name: record.name, owner: record.ownerID.flatMap { names[$0]?.name } ?? "", target: record.target,
                createdAt: AdminTime.iso(record.createdAt), endedAt: AdminTime.iso(ended),
                seconds: max(0, Int(ended.timeIntervalSince(record.createdAt).rounded())),
                reason: record.endReason?.rawValue ?? "", reasonSummary: record.endReason?.summary ?? "",
                requests: record.requests, bytes: record.bytes)
        }
    }

    func shareLog(_ name: String, filter: AccessLogFilter, for user: AdminUser) -> AdminLookup<AdminShareLog> {
        guard let record = store.share(named: name) else { return .notFound }
        if !user.isAdmin {
            guard let owner = record.ownerID, owner == store.userID(named: user.name) else {
                store.audit(actor: user.name, action: "share.log.refused", subject: name, detail: "not the owner")
                return .forbidden
            }
        }
        let found: [Logged<AccessLogEntry>]
        do { found = try store.accessLog(share: name, filter: filter) } catch { return .tooSlow("\(error)") }
        let rows = found.map { row in
            let entry = row.entry
            return AdminAccessRow(id: row.id, time: AdminTime.iso(entry.time), client: entry.client, method: entry.method,
                                  path: entry.path, status: entry.status, bytes: entry.bytes, durationMs: entry.durationMilliseconds,
                                  userAgent: entry.userAgent, refusal: entry.refusalReason, aborted: entry.aborted)
        }
        let sessions = store.connectSessions(share: name, limit: Self.sideRows).map { row in
            AdminConnectSession(client: row.entry.client, startedAt: AdminTime.iso(row.entry.startedAt),
                                endedAt: row.entry.endedAt.map(AdminTime.iso))
        }
        let ssh = store.sshEvents(share: name, limit: Self.sideRows).map { row in
            AdminSSHEvent(time: AdminTime.iso(row.entry.time), client: row.entry.client, kind: row.entry.kind.rawValue)
        }
        return .found(AdminShareLog(rows: rows, connectSessions: sessions, sshEvents: ssh))
    }

    func audit(before: Int64?, limit: Int) -> [AdminAuditRow] {
        store.auditTrail(before: before, limit: limit).map { row in
            let entry = row.entry
            return AdminAuditRow(id: row.id, time: AdminTime.iso(entry.time), actor: entry.actor, action: entry.action,
                                 subject: entry.subject, detail: entry.detail)
        }
    }

    var droppedLogRows: Int { store.droppedLogRows }

    func record(_ event: AdminAuditEvent) {
        let row = event.row
        store.audit(actor: row.actor, action: row.action, detail: row.detail)
    }
}
