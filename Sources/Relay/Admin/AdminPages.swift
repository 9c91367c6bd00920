import Wire

/// The interface's HTML, built from escaped pieces only: every value from outside (share names,
/// URLs, user names, messages) goes through `HTMLText.escape` here and nowhere else.
enum AdminPages {
    static func e(_ text: String) -> String { HTMLText.escape(text) }

    static func layout(title: String, body: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>\(e(title)) · vshare relay</title>
        <link rel="stylesheet" href="/assets/admin.css"></head>
        <body>\(body)<script src="/assets/admin.js"></script></body></html>
        """
    }

    static func login(message: String? = nil) -> String {
        let notice = message.map { "<p class=\"error\">\(e($0))</p>" } ?? ""
        return layout(title: "Sign in", body: """
        <h1>vshare relay</h1>
        \(notice)
        <form method="post" action="/login">
        <label>Token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
        <button type="submit">Sign in</button>
        </form>
        <p class="muted">The owner token is in the relay's data directory (DIR/token).</p>
        """)
    }

    static func shares(_ shares: [AdminShare], session: AdminSessions.Session, message: String? = nil) -> String {
        let csrf = e(session.csrfToken)
        let notice = message.map { "<p>\(e($0))</p>" } ?? ""
        let rows = shares.map { row($0, csrf: csrf) }.joined(separator: "\n")
        let empty = shares.isEmpty ? "<p class=\"muted\">No live shares.</p>" : ""
        return layout(title: "Live shares", body: """
        \(header("Live shares", session: session))
        \(notice)
        <table id="shares"><thead><tr><th>Share</th><th>Target</th><th>Expires in</th><th>Owner</th><th>Options</th><th>Requests</th><th>Bytes</th><th>Peers</th><th></th></tr></thead>
        <tbody>
        \(rows)
        </tbody></table>
        \(empty)
        """)
    }

    private static func row(_ share: AdminShare, csrf: String) -> String {
        let name = e(share.name)
        var addresses = share.url.map { "<br><a href=\"\(e($0))\" rel=\"noreferrer\">\(e($0))</a>" } ?? ""
        if let https = share.httpsAddress { addresses += "<br>\(e(https))" }
        let waiting = share.agentConnected ? "" : " <span class=\"muted\">(agent reconnecting)</span>"
        return """
        <tr data-share="\(name)"><td><strong><a href="/shares/\(name)">\(name)</a></strong>\(waiting)\(addresses)</td>\
        <td>\(e(share.target))</td>\
        <td data-expires="\(share.expiresIn)">\(e(DurationSyntax.format(seconds: share.expiresIn)))</td>\
        <td>\(e(share.owner))</td><td>\(e(share.options.joined(separator: ", ")))</td>\
        <td class="num" data-requests>\(share.requests)</td><td class="num" data-bytes>\(share.bytes)</td>\
        <td class="num" data-peers>\(share.peers)</td>\
        <td><form class="inline" method="post" action="/shares/\(name)/expire">\
        <input type="hidden" name="csrf" value="\(csrf)"><button type="submit">Expire now</button></form></td></tr>
        """
    }

    /// The title, the links between pages (the audit trail only for admins) and the sign-out form.
    static func header(_ title: String, session: AdminSessions.Session) -> String {
        let audit = session.user.isAdmin ? " · <a href=\"/audit\">Audit trail</a>" : ""
        return """
        <header><h1>\(e(title))</h1><nav><a href="/">Live shares</a> · <a href="/history">History</a>\(audit)</nav>
        <form class="inline" method="post" action="/logout"><input type="hidden" name="csrf" value="\(e(session.csrfToken))">
        \(e(session.user.name)) <button type="submit">Sign out</button></form></header>
        """
    }

    /// A small page for refusals and missing pages.
    static func problem(_ status: Int, _ message: String) -> String {
        layout(title: HTTPErrorPage.reasonPhrase(for: status), body: """
        <h1>\(status) \(e(HTTPErrorPage.reasonPhrase(for: status)))</h1><p>\(e(message))</p><p><a href="/">Live shares</a></p>
        """)
    }
}
