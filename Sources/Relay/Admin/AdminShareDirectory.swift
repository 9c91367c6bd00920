/// One live share as the web interface shows it.
public struct AdminShare: Equatable, Sendable, Codable {
    public var name: String
    /// The public HTTP URL (nil with `--no-http`).
    public var url: String?
    /// The SNI address (`--https`).
    public var httpsAddress: String?
    public var expiresIn: Int
    public var owner: String
    /// Of `http`, `https`, `ssh`, `connect`.
    public var options: [String]
    /// False while the relay holds the share for an agent that is reconnecting.
    public var agentConnected: Bool
    /// What the share shows (`10.0.0.5, http 80`), as its agent described it.
    public var target: String
    /// Requests through its public URL and the bytes of their responses, so far.
    public var requests: Int
    public var bytes: Int
    /// Connect peers joined now.
    public var peers: Int

    public init(name: String, url: String?, httpsAddress: String?, expiresIn: Int, owner: String, options: [String],
                agentConnected: Bool, target: String = "", requests: Int = 0, bytes: Int = 0, peers: Int = 0) {
        self.name = name
        self.url = url
        self.httpsAddress = httpsAddress
        self.expiresIn = expiresIn
        self.owner = owner
        self.options = options
        self.agentConnected = agentConnected
        self.target = target
        self.requests = requests
        self.bytes = bytes
        self.peers = peers
    }
}

/// What the interface reads and changes: the relay's live shares (today in memory; the store
/// plugs in behind the same calls). Implementations are thread-safe.
public protocol AdminShareDirectory: AnyObject, Sendable {
    /// The live shares `user` may see, by name.
    func liveShares(for user: AdminUser) -> [AdminShare]
    /// Ends a live share at once (its URL answers 404, its agent is told), if `user` may; `origin`
    /// says how they asked (for the history's reason and the audit trail).
    func expire(_ name: String, by user: AdminUser, from origin: AdminExpireOrigin) -> AdminExpireOutcome
}

/// How an expiry was asked for, and from which client address.
public struct AdminExpireOrigin: Equatable, Sendable {
    public enum Channel: String, Sendable {
        /// The Expire now button (a form, or the page's script with the session cookie).
        case web
        /// The API with a bearer token.
        case api
        /// `vshare expire` (the API with a bearer token and `via=cli`).
        case cli
    }

    public var channel: Channel
    public var client: String

    public init(_ channel: Channel, client: String) {
        self.channel = channel
        self.client = client
    }

    /// What the audit trail says after the reason, e.g. "(api from 127.0.0.1)".
    public var auditNote: String { "(\(channel.rawValue) from \(client))" }
}

/// What asking to expire a share did.
public enum AdminExpireOutcome: Equatable, Sendable {
    case expired
    case notFound
    /// The share is another user's (403: the user may know the name from its URL anyway).
    case forbidden
}
