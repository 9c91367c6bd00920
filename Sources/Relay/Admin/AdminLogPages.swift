import Store
import Wire

/// The record pages: history of ended shares, one share's access log (with its connect sessions
/// and SSH events), the audit trail. Like AdminPages, every value from outside is escaped here,
/// and every page is complete without JavaScript (filters are GET forms, pages are links).
enum AdminLogPages {
    private static func e(_ text: String) -> String { HTMLText.escape(text) }

    /// Said on every record page when rows were dropped, so a gap in a log is never silent.
    private static func droppedNotice(_ dropped: Int) -> String {
        dropped == 0 ? "" : "<p class=\"error\">\(dropped) log rows were dropped because the disk could not keep up.</p>"
    }

    static func history(_ shares: [AdminEndedShare], session: AdminSessions.Session, dropped: Int) -> String {
        let rows = shares.map { share in
            """
            <tr><td><a href="/shares/\(e(share.name))">\(e(share.name))</a></td><td>\(e(share.owner))</td><td>\(e(share.target))</td>\
            <td>\(e(share.endedAt))</td><td>\(e(DurationSyntax.format(seconds: share.seconds)))</td><td>\(e(share.reasonSummary))</td>\
            <td>\(share.requests)</td><td>\(share.bytes)</td></tr>
            """
        }.joined(separator: "\n")
        return AdminPages.layout(title: "History", body: """
        \(AdminPages.header("History", session: session))
        \(droppedNotice(dropped))
        <table id="history"><thead><tr><th>Share</th><th>Owner</th><th>Target</th><th>Ended</th><th>Lived</th><th>Why it ended</th>\
        <th>Requests</th><th>Bytes</th></tr></thead>
        <tbody>
        \(rows)
        </tbody></table>
        \(shares.isEmpty ? "<p class=\"muted\">No ended shares yet.</p>" : "")
        """)
    }

    static func shareLog(_ name: String, log: AdminShareLog, filter: AccessLogFilter, session: AdminSessions.Session,
                         dropped: Int) -> String {
        let share = e(name)
        let filterFields = filterQuery(filter)
        // The script polls only the first page: an older page is history, not live.
        let live = filter.before == nil ? "1" : "0"
        let newest = log.rows.map(\.id).max() ?? 0
        let rows = log.rows.map(accessRow).joined(separator: "\n")
        var older = ""
        if log.rows.count == filter.limit, let last = log.rows.last {
            let query = FormEncoding.encode(filterFields + [("before", String(last.id))])
            older = "<p><a href=\"/shares/\(share)?\(e(query))\">Older requests</a></p>"
        }
        return AdminPages.layout(title: name, body: """
        \(AdminPages.header("Share \(name)", session: session))
        \(droppedNotice(dropped))
        <h2>Requests</h2>
        \(filterForm(share: share, filter: filter))
        <table id="log" data-share="\(share)" data-query="\(e(FormEncoding.encode(filterFields)))" data-live="\(live)" data-after="\(newest)">
        <thead><tr><th>Time</th><th>Client</th><th>Method</th><th>Path</th><th>Status</th><th>Bytes</th><th>Duration</th>\
        <th>User agent</th><th>Note</th></tr></thead>
        <tbody>
        \(rows)
        </tbody></table>
        \(log.rows.isEmpty ? "<p class=\"muted\" id=\"log-empty\">No requests match.</p>" : "")
        \(older)
        <h2>Connect sessions</h2>
        \(connectSessions(log.connectSessions))
        <h2>SSH key events</h2>
        \(sshEvents(log.sshEvents))
        """)
    }

    static func audit(_ rows: [AdminAuditRow], next: Int64?, session: AdminSessions.Session, dropped: Int) -> String {
        let body = rows.map { row in
            """
            <tr><td>\(e(row.time))</td><td>\(e(row.actor))</td><td>\(e(row.action))</td><td>\(e(row.subject))</td><td>\(e(row.detail))</td></tr>
            """
        }.joined(separator: "\n")
        let older = next.map { "<p><a href=\"/audit?before=\($0)\">Older entries</a></p>" } ?? ""
        return AdminPages.layout(title: "Audit trail", body: """
        \(AdminPages.header("Audit trail", session: session))
        \(droppedNotice(dropped))
        <table id="audit"><thead><tr><th>Time</th><th>Who</th><th>What</th><th>On</th><th>Detail</th></tr></thead>
        <tbody>
        \(body)
        </tbody></table>
        \(rows.isEmpty ? "<p class=\"muted\">Nothing yet.</p>" : "")
        \(older)
        """)
    }

    /// The filter as query fields, for links and the script's polls.
    static func filterQuery(_ filter: AccessLogFilter) -> [(String, String)] {
        var fields: [(String, String)] = []
        if let status = filter.status { fields.append(("status", status.text)) }
        if let path = filter.pathContains, !path.isEmpty { fields.append(("path", path)) }
        return fields
    }

    private static func filterForm(share: String, filter: AccessLogFilter) -> String {
        let options = [("", "any")] + (2...5).map { ("\($0)xx", "\($0)xx") }
        let select = options.map { value, label in
            "<option value=\"\(value)\"\(filter.status?.text == value || (filter.status == nil && value.isEmpty) ? " selected" : "")>\(label)</option>"
        }.joined()
        return """
        <form method="get" action="/shares/\(share)"><label>Status <select name="status">\(select)</select></label>
        <label>Path contains <input type="text" name="path" value="\(e(filter.pathContains ?? ""))"></label>
        <button type="submit">Filter</button></form>
        """
    }

    private static func accessRow(_ row: AdminAccessRow) -> String {
        """
        <tr data-id="\(row.id)"><td>\(e(row.time))</td><td>\(e(row.client))</td><td>\(e(row.method))</td><td>\(e(row.path))</td>\
        <td>\(row.status)</td><td>\(row.bytes)</td><td>\(row.durationMs) ms</td><td>\(e(row.userAgent))</td><td>\(e(note(row)))</td></tr>
        """
    }

    /// Why the request did not get its full answer: the relay's refusal, or the side that cut the
    /// response short (a download the client abandoned is otherwise a 200 like any other).
    /// AdminAssets.logScript says the same for the rows it adds.
    private static func note(_ row: AdminAccessRow) -> String {
        if let refusal = row.refusal { return refusal }
        if let aborted = row.aborted { return "aborted by the \(aborted)" }
        return ""
    }

    private static func connectSessions(_ sessions: [AdminConnectSession]) -> String {
        guard !sessions.isEmpty else { return "<p class=\"muted\">None.</p>" }
        let rows = sessions.map { "<tr><td>\(e($0.client))</td><td>\(e($0.startedAt))</td><td>\(e($0.endedAt ?? "still open"))</td></tr>" }
        return "<table><thead><tr><th>Client</th><th>Started</th><th>Ended</th></tr></thead><tbody>\(rows.joined())</tbody></table>"
    }

    private static func sshEvents(_ events: [AdminSSHEvent]) -> String {
        guard !events.isEmpty else { return "<p class=\"muted\">None.</p>" }
        let rows = events.map { "<tr><td>\(e($0.time))</td><td>\(e($0.client))</td><td>\(e($0.kind))</td></tr>" }
        return "<table><thead><tr><th>Time</th><th>Client</th><th>What</th></tr></thead><tbody>\(rows.joined())</tbody></table>"
    }
}
