import Transport
import Wire

/// The web interface and its API without any I/O: a request in, a response out. The connection
/// shell reads requests and writes what this returns; tests call `respond` directly.
public final class AdminApp: @unchecked Sendable {
    let authenticator: AdminAuthenticator
    let directory: AdminShareDirectory
    let logBook: AdminLogBook
    let sessions: AdminSessions
    let throttle = AdminLoginThrottle()
    /// Served over TLS: the cookie gets `Secure`.
    let secure: Bool
    /// The body of `GET /metrics` (Prometheus text), gathered at each scrape.
    let metrics: @Sendable () -> String

    public init(authenticator: AdminAuthenticator, directory: AdminShareDirectory, logBook: AdminLogBook,
                sessions: AdminSessions = AdminSessions(), secure: Bool, metrics: @escaping @Sendable () -> String = { "" }) {
        self.metrics = metrics
        self.authenticator = authenticator
        self.directory = directory
        self.logBook = logBook
        self.sessions = sessions
        self.secure = secure
    }

    public func respond(to request: AdminRequest, now: Double = MonotonicClock.now()) -> AdminResponse {
        switch AdminRoute.route(method: request.head.method, target: request.head.target) {
        case .loginPage: return .html(200, AdminPages.login())
        case .login: return login(request, now: now)
        case .logout: return withSession(request, now: now) { session in
            sessions.remove(session.id)
            logBook.record(.signedOut(user: session.user.name, client: request.client))
            return .redirect("/login", headers: [("Set-Cookie", AdminCookie.clearing(secure: secure))])
        }
        case .sharesPage: return withPage(request, now: now) { session in
            .html(200, AdminPages.shares(directory.liveShares(for: session.user), session: session))
        }
        case .historyPage: return withPage(request, now: now) { historyPage(session: $0) }
        case .shareLogPage(let name): return withPage(request, now: now) { shareLogPage(name, request: request, session: $0) }
        case .auditPage: return withPage(request, now: now) { auditPage(request: request, session: $0) }
        case .expireForm(let name): return withSession(request, now: now) { session in
            switch directory.expire(name, by: session.user, from: AdminExpireOrigin(.web, client: request.client)) {
            case .expired: return .redirect("/")
            case .notFound: return .html(404, AdminPages.problem(404, "There is no live share named \(name)."))
            case .forbidden: return .html(403, AdminPages.problem(403, "The share \(name) is another user's."))
            }
        }
        case .asset(let name):
            guard let asset = AdminAssets.named(name) else { return .html(404, AdminPages.problem(404, "No such page.")) }
            return AdminResponse(status: 200, contentType: asset.contentType, body: Array(asset.body.utf8))
        case .apiShares: return withAPIUser(request, now: now) { user in AdminAPI.shares(directory.liveShares(for: user)) }
        case .apiExpire(let name): return withAPIUser(request, now: now) { user in
            switch directory.expire(name, by: user, from: AdminExpireOrigin(expiryChannel(request), client: request.client)) {
            case .expired: return AdminAPI.expired(name)
            case .notFound: return AdminAPI.error(404, "there is no live share named \(name)")
            case .forbidden: return AdminAPI.error(403, "the share \(name) is another user's")
            }
        }
        case .apiHistory: return withAPIUser(request, now: now) { apiHistory(user: $0) }
        case .apiShareLog(let name): return withAPIUser(request, now: now) { apiShareLog(name, request: request, user: $0) }
        case .apiAudit: return withAPIUser(request, now: now) { apiAudit(request: request, user: $0) }
        case .metrics: return withAPIUser(request, now: now) { user in
            guard user.isAdmin else { return AdminAPI.error(403, "metrics cover every user's shares: use an admin token") }
            return AdminResponse(status: 200, contentType: PrometheusText.contentType, body: Array(metrics().utf8))
        }
        case .notFound: return .html(404, AdminPages.problem(404, "There is no page at \(request.displayPath)."))
        case .methodNotAllowed(let allow):
            var response = AdminResponse.html(405, AdminPages.problem(405, "This page does not take \(request.head.method)."))
            response.headers = [("Allow", allow)]
            return response
        }
    }

    /// An API expiry: the page's own script (session cookie) is the web interface; a bearer token is
    /// the API, or the CLI when it says so (`via=cli`, what `vshare expire` sends).
    private func expiryChannel(_ request: AdminRequest) -> AdminExpireOrigin.Channel {
        guard request.bearerToken != nil else { return .web }
        return request.query["via"] == "cli" ? .cli : .api
    }

    private func login(_ request: AdminRequest, now: Double) -> AdminResponse {
        guard !throttle.isBlocked(request.client, now: now) else {
            return .html(429, AdminPages.login(message: "Too many failed sign-ins from your address. Wait \(Int(AdminLoginThrottle.wait / 60)) minutes."))
        }
        guard let token = request.form["token"], let user = authenticator.authenticate(token: token) else {
            throttle.recordFailure(request.client, now: now)
            logBook.record(.signInFailed(client: request.client))
            return .html(403, AdminPages.login(message: "That token is not valid."))
        }
        let session = sessions.create(for: user, now: now)
        logBook.record(.signedIn(user: user.name, client: request.client))
        return .redirect("/", headers: [("Set-Cookie", AdminCookie.setting(session.id, secure: secure))])
    }

    /// A page for a signed-in browser; anyone else goes to the sign-in page.
    private func withPage(_ request: AdminRequest, now: Double, _ handle: (AdminSessions.Session) -> AdminResponse) -> AdminResponse {
        guard let session = request.sessionID.flatMap({ sessions.lookup($0, now: now) }) else { return .redirect("/login") }
        return handle(session)
    }

    /// A form post from a signed-in browser: the session cookie and its CSRF token (hidden field
    /// `csrf`) are both required, so another site cannot make the browser post here.
    private func withSession(_ request: AdminRequest, now: Double,
                             _ handle: (AdminSessions.Session) -> AdminResponse) -> AdminResponse {
        guard let session = request.sessionID.flatMap({ sessions.lookup($0, now: now) }) else { return .redirect("/login") }
        guard AdminSessions.csrfMatches(session, request.form["csrf"]) else {
            return .html(403, AdminPages.problem(403, "The form was missing its security token. Reload the page and try again."))
        }
        return handle(session)
    }

    /// The API: `Authorization: Bearer TOKEN` (no cookie, so no CSRF), or the page's own session
    /// cookie for its script; a state change with the cookie needs the `X-CSRF-Token` header.
    private func withAPIUser(_ request: AdminRequest, now: Double, _ handle: (AdminUser) -> AdminResponse) -> AdminResponse {
        if let token = request.bearerToken {
            guard !throttle.isBlocked(request.client, now: now) else {
                return AdminAPI.error(429, "too many failed sign-ins from this address; wait \(Int(AdminLoginThrottle.wait / 60)) minutes")
            }
            guard let user = authenticator.authenticate(token: token) else {
                throttle.recordFailure(request.client, now: now)
                logBook.record(.signInFailed(client: request.client))
                return AdminAPI.error(401, "the token is not valid", headers: [("WWW-Authenticate", "Bearer")])
            }
            return handle(user)
        }
        guard let session = request.sessionID.flatMap({ sessions.lookup($0, now: now) }) else {
            return AdminAPI.error(401, "sign in: send Authorization: Bearer TOKEN", headers: [("WWW-Authenticate", "Bearer")])
        }
        if request.head.method != "GET" && request.head.method != "HEAD"
            && !AdminSessions.csrfMatches(session, request.head.headers["X-CSRF-Token"]) {
            return AdminAPI.error(403, "a state change with the session cookie needs the X-CSRF-Token header")
        }
        return handle(session.user)
    }
}
