import Store

/// AdminApp's record pages and their API: history, one share's log, the audit trail. The page and
/// the API of each read the same query fields and the same log book, so they always agree.
extension AdminApp {
    /// Ended shares on the history page and in `/api/history`.
    static let historyLimit = 200
    /// Audit rows per page.
    static let auditPageSize = 100

    func historyPage(session: AdminSessions.Session) -> AdminResponse {
        .html(200, AdminLogPages.history(logBook.history(for: session.user, limit: Self.historyLimit), session: session,
                                         dropped: logBook.droppedLogRows))
    }

    func apiHistory(user: AdminUser) -> AdminResponse {
        AdminAPI.history(logBook.history(for: user, limit: Self.historyLimit), dropped: logBook.droppedLogRows)
    }

    func shareLogPage(_ name: String, request: AdminRequest, session: AdminSessions.Session) -> AdminResponse {
        let filter: AccessLogFilter
        switch Self.accessLogFilter(request.query) {
        case .success(let parsed): filter = parsed
        case .failure(let problem): return .html(400, AdminPages.problem(400, problem.message))
        }
        switch logBook.shareLog(name, filter: filter, for: session.user) {
        case .found(let log):
            return .html(200, AdminLogPages.shareLog(name, log: log, filter: filter, session: session, dropped: logBook.droppedLogRows))
        case .notFound: return .html(404, AdminPages.problem(404, "There is no share named \(name)."))
        case .forbidden: return .html(403, AdminPages.problem(403, "The share \(name) is another user's."))
        case .tooSlow(let message): return .html(400, AdminPages.problem(400, Self.sentence(message)))
        }
    }

    func apiShareLog(_ name: String, request: AdminRequest, user: AdminUser) -> AdminResponse {
        let filter: AccessLogFilter
        switch Self.accessLogFilter(request.query) {
        case .success(let parsed): filter = parsed
        case .failure(let problem): return AdminAPI.error(400, problem.message)
        }
        switch logBook.shareLog(name, filter: filter, for: user) {
        case .found(let log):
            let next = log.rows.count == filter.limit ? log.rows.last?.id : nil
            return AdminAPI.shareLog(name, log, next: next, dropped: logBook.droppedLogRows)
        case .notFound: return AdminAPI.error(404, "there is no share named \(name)")
        case .forbidden: return AdminAPI.error(403, "the share \(name) is another user's")
        case .tooSlow(let message): return AdminAPI.error(400, message)
        }
    }

    func auditPage(request: AdminRequest, session: AdminSessions.Session) -> AdminResponse {
        guard session.user.isAdmin else { return .html(403, AdminPages.problem(403, "Only admin may read the audit trail.")) }
        guard let before = Self.optionalID(request.query["before"]) else {
            return .html(400, AdminPages.problem(400, "before must be a row id."))
        }
        let rows = logBook.audit(before: before, limit: Self.auditPageSize)
        let next = rows.count == Self.auditPageSize ? rows.last?.id : nil
        return .html(200, AdminLogPages.audit(rows, next: next, session: session, dropped: logBook.droppedLogRows))
    }

    func apiAudit(request: AdminRequest, user: AdminUser) -> AdminResponse {
        guard user.isAdmin else { return AdminAPI.error(403, "only admin may read the audit trail") }
        guard let before = Self.optionalID(request.query["before"]) else { return AdminAPI.error(400, "before must be a row id") }
        let limit = max(1, min(Int(request.query["limit"] ?? "") ?? Self.auditPageSize, AccessLogFilter.maxLimit))
        let rows = logBook.audit(before: before, limit: limit)
        let next = rows.count == limit ? rows.last?.id : nil
        return AdminAPI.audit(rows, next: next, dropped: logBook.droppedLogRows)
    }

    struct QueryProblem: Error { let message: String }

    /// An API message as a page's sentence: capitalized, with a full stop.
    private static func sentence(_ message: String) -> String { message.prefix(1).uppercased() + message.dropFirst() + "." }

    /// `status` (2xx...5xx), `path` (a substring), `before` and `after` (row ids), `limit` (1...500).
    /// Empty fields mean "not given": that is what the page's filter form sends for "any".
    static func accessLogFilter(_ query: [String: String]) -> Result<AccessLogFilter, QueryProblem> {
        var status: AccessLogFilter.StatusClass?
        if let text = query["status"], !text.isEmpty {
            guard let parsed = AccessLogFilter.StatusClass(text) else {
                return .failure(QueryProblem(message: "status must be 2xx, 3xx, 4xx or 5xx"))
            }
            status = parsed
        }
        guard let before = optionalID(query["before"]), let after = optionalID(query["after"]) else {
            return .failure(QueryProblem(message: "before and after must be row ids"))
        }
        var limit = 50
        if let text = query["limit"], !text.isEmpty {
            guard let parsed = Int(text), parsed > 0 else { return .failure(QueryProblem(message: "limit must be a positive number")) }
            limit = parsed
        }
        let path = query["path"].flatMap { $0.isEmpty ? nil : String($0.prefix(500)) }
        return .success(AccessLogFilter(status: status, pathContains: path, before: before, after: after, limit: limit))
    }

    /// A row id field: `.some(nil)` when absent or empty, `.some(id)` when valid, nil when invalid.
    private static func optionalID(_ text: String?) -> Int64?? {
        guard let text, !text.isEmpty else { return .some(nil) }
        guard let id = Int64(text), id > 0 else { return nil }
        return .some(id)
    }
}
