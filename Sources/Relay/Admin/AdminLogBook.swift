import Store

/// The interface's view of the relay's records: ended shares, one share's access log with its
/// connect sessions and SSH events, the audit trail; and where its own audit events go. A
/// protocol so AdminApp stays a pure request → response function that tests drive with a fake.
/// Implementations are thread-safe and check nothing about users but share ownership.
public protocol AdminLogBook: AnyObject, Sendable {
    /// Ended shares `user` may see, most recently ended first.
    func history(for user: AdminUser, limit: Int) -> [AdminEndedShare]
    /// One share's log as `filter` selects it, if `user` may see that share.
    func shareLog(_ name: String, filter: AccessLogFilter, for user: AdminUser) -> AdminLookup<AdminShareLog>
    /// The audit trail, newest first (the app shows it to admins only).
    func audit(before: Int64?, limit: Int) -> [AdminAuditRow]
    /// Log rows dropped because the disk could not keep up (shown so a gap is never silent).
    var droppedLogRows: Int { get }
    /// Writes a sign-in, sign-out or refused sign-in to the audit trail (never blocks).
    func record(_ event: AdminAuditEvent)
}

/// What looking up a share's records found.
public enum AdminLookup<Value: Sendable>: Sendable {
    case found(Value)
    case notFound
    /// The share is another user's.
    case forbidden
    /// The search ran past its time limit; the message says how to narrow it.
    case tooSlow(String)
}

/// Something the interface itself puts in the audit trail.
public enum AdminAuditEvent: Equatable, Sendable {
    case signedIn(user: String, client: String)
    case signedOut(user: String, client: String)
    /// A wrong token in the form or as a bearer token; the actor is the client's address.
    case signInFailed(client: String)

    /// (actor, action, detail) as the audit table holds them.
    public var row: (actor: String, action: String, detail: String) {
        switch self {
        case let .signedIn(user, client): return (user, "login", "web interface from \(client)")
        case let .signedOut(user, client): return (user, "logout", "web interface from \(client)")
        case let .signInFailed(client): return (client, "login.failed", "a token no user holds")
        }
    }
}

/// An ended share in the history. Times are ISO 8601 UTC with milliseconds.
public struct AdminEndedShare: Equatable, Sendable, Codable {
    public var name: String
    public var owner: String
    public var target: String
    public var createdAt: String
    public var endedAt: String
    /// How long it lived.
    public var seconds: Int
    /// ShareEndReason's raw value, e.g. `expired-web`.
    public var reason: String
    /// How the history words it, e.g. "expired from the web interface".
    public var reasonSummary: String
    /// Requests in its access log, and the bytes they sent.
    public var requests: Int64
    public var bytes: Int64
}

/// One request in a share's access log.
public struct AdminAccessRow: Equatable, Sendable, Codable {
    /// The row's id: the cursor for `before` (older pages) and `after` (polling for new rows).
    public var id: Int64
    public var time: String
    public var client: String
    public var method: String
    public var path: String
    public var status: Int
    public var bytes: Int64
    public var durationMs: Int64
    public var userAgent: String
    /// Why the relay refused it (basic auth, allow-ip); absent when forwarded.
    public var refusal: String?
    /// Which side cut its response short (`client`, `machine`, `relay`); absent when it completed.
    public var aborted: String?
}

public struct AdminConnectSession: Equatable, Sendable, Codable {
    public var client: String
    public var startedAt: String
    /// Absent while it lasts (or when the relay stopped first).
    public var endedAt: String?
}

public struct AdminSSHEvent: Equatable, Sendable, Codable {
    public var time: String
    public var client: String
    /// `key-released` or `proof-refused`.
    public var kind: String
}

/// One share's page: its requests (a page of them) and its connect and SSH records.
public struct AdminShareLog: Equatable, Sendable {
    public var rows: [AdminAccessRow]
    public var connectSessions: [AdminConnectSession]
    public var sshEvents: [AdminSSHEvent]

    public init(rows: [AdminAccessRow], connectSessions: [AdminConnectSession] = [], sshEvents: [AdminSSHEvent] = []) {
        self.rows = rows
        self.connectSessions = connectSessions
        self.sshEvents = sshEvents
    }
}

public struct AdminAuditRow: Equatable, Sendable, Codable {
    public var id: Int64
    public var time: String
    public var actor: String
    public var action: String
    public var subject: String
    public var detail: String
}
