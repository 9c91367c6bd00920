import Foundation

/// A row for one of the log tables, handed to the LogWriter from any thread.
public enum LogRow: Sendable, Equatable {
    case access(AccessLogEntry)
    case audit(AuditEntry)
    case connectSession(ConnectSessionEntry)
    case sshEvent(SSHEventEntry)
}

/// One HTTP request through a share (see the access_log table).
public struct AccessLogEntry: Sendable, Equatable {
    public var share: String
    public var time: Date
    public var client: String
    public var method: String
    public var path: String
    public var status: Int
    public var bytes: Int64
    public var durationMilliseconds: Int64
    public var userAgent: String
    /// Why the relay refused the request; nil when it was forwarded.
    public var refusalReason: String?
    /// Which side cut the response short (`client`, `machine` or `relay`); nil when it completed.
    public var aborted: String?

    public init(share: String, time: Date, client: String, method: String, path: String, status: Int, bytes: Int64,
                durationMilliseconds: Int64, userAgent: String, refusalReason: String? = nil, aborted: String? = nil) {
        self.share = share
        self.time = time
        self.client = client
        self.method = method
        self.path = path
        self.status = status
        self.bytes = bytes
        self.durationMilliseconds = durationMilliseconds
        self.userAgent = userAgent
        self.refusalReason = refusalReason
        self.aborted = aborted
    }
}

/// Something a user (or a failed login) did (see the audit table).
public struct AuditEntry: Sendable, Equatable {
    public var time: Date
    public var actor: String
    public var action: String
    public var subject: String
    public var detail: String

    public init(time: Date, actor: String, action: String, subject: String = "", detail: String = "") {
        self.time = time
        self.actor = actor
        self.action = action
        self.subject = subject
        self.detail = detail
    }
}

/// A connect peer's session through a share, logged when it ends (see connect_sessions).
public struct ConnectSessionEntry: Sendable, Equatable {
    public var share: String
    public var client: String
    public var startedAt: Date
    public var endedAt: Date?

    public init(share: String, client: String, startedAt: Date, endedAt: Date?) {
        self.share = share
        self.client = client
        self.startedAt = startedAt
        self.endedAt = endedAt
    }
}

/// What happened to an SSH share's sealed key (see ssh_events).
public enum SSHEventKind: String, Sendable {
    case keyReleased = "key-released"
    case proofRefused = "proof-refused"
}

public struct SSHEventEntry: Sendable, Equatable {
    public var share: String
    public var time: Date
    public var client: String
    public var kind: SSHEventKind

    public init(share: String, time: Date, client: String, kind: SSHEventKind) {
        self.share = share
        self.time = time
        self.client = client
        self.kind = kind
    }
}
