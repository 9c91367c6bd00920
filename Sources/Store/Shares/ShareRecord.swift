import Foundation

/// A share as the store keeps it: enough to restore a live one after a relay restart, and to show
/// an ended one in the history.
public struct ShareRecord: Equatable, Sendable {
    public var name: String
    /// The owning user's id; nil once that user has been removed.
    public var ownerID: Int64?
    /// What the share exposes, as the interface shows it (e.g. "192.168.56.10 http:80").
    public var target: String
    /// The share's options as JSON, opaque to the store.
    public var optionsJSON: String
    /// The agent's resume secret as the store keeps it: its digest (`ResumeSecretDigest.of`), never
    /// the secret itself.
    public var resumeSecret: String
    public var createdAt: Date
    /// nil: the share never expires.
    public var expiresAt: Date?
    /// nil while live.
    public var endedAt: Date?
    public var endReason: ShareEndReason?
    /// Its access-log rows so far and their response bytes, kept by the log writer (read back only:
    /// saving a record never sets them).
    public var requests: Int64
    public var bytes: Int64

    public init(name: String, ownerID: Int64?, target: String, optionsJSON: String, resumeSecret: String,
                createdAt: Date, expiresAt: Date?, endedAt: Date? = nil, endReason: ShareEndReason? = nil,
                requests: Int64 = 0, bytes: Int64 = 0) {
        self.name = name
        self.ownerID = ownerID
        self.target = target
        self.optionsJSON = optionsJSON
        self.resumeSecret = resumeSecret
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.endedAt = endedAt
        self.endReason = endReason
        self.requests = requests
        self.bytes = bytes
    }
}
