import Foundation

/// Live shares (restored when the relay restarts) and the history of ended ones.
/// Uses its connection from one thread at a time, like SQLiteDatabase.
public final class ShareStore {
    private let database: SQLiteDatabase
    private static let columns = "name, owner_id, target, options_json, resume_secret, created_at, expires_at, ended_at, end_reason"
    /// What reads return: the columns a record is saved with, and its totals.
    private static let readColumns = columns + ", requests, bytes"

    public init(database: SQLiteDatabase) {
        self.database = database
    }

    /// Records a new live share. Names are never reused while their history is kept: an existing
    /// name, live or ended, throws `shareExists`.
    public func save(_ share: ShareRecord) throws {
        if try contains(name: share.name) { throw StoreError.shareExists(share.name) }
        let statement = try database.prepare("INSERT INTO shares (\(Self.columns)) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")
        try statement.bind(share.name, at: 1)
        try statement.bind(share.ownerID, at: 2)
        try statement.bind(share.target, at: 3)
        try statement.bind(share.optionsJSON, at: 4)
        try statement.bind(share.resumeSecret, at: 5)
        try statement.bind(share.createdAt.unixMilliseconds, at: 6)
        try statement.bind(share.expiresAt?.unixMilliseconds, at: 7)
        try statement.bind(share.endedAt?.unixMilliseconds, at: 8)
        try statement.bind(share.endReason?.rawValue, at: 9)
        try statement.run()
    }

    /// Whether a share of this name is in the store, live or ended (the relay avoids such names).
    public func contains(name: String) throws -> Bool {
        let statement = try database.prepare("SELECT 1 FROM shares WHERE name = ?1")
        try statement.bind(name, at: 1)
        return try statement.step() == .row
    }

    /// The share of this name, live or ended; nil if the store never had it (or forgot it).
    public func share(named name: String) throws -> ShareRecord? {
        let statement = try database.prepare("SELECT \(Self.readColumns) FROM shares WHERE name = ?1")
        try statement.bind(name, at: 1)
        return try records(statement).first
    }

    /// Ends a live share; false if there is no live share of that name (already ended or unknown).
    @discardableResult
    public func end(name: String, reason: ShareEndReason, at time: Date) throws -> Bool {
        let statement = try database.prepare("UPDATE shares SET ended_at = ?1, end_reason = ?2 WHERE name = ?3 AND ended_at IS NULL")
        try statement.bind(time.unixMilliseconds, at: 1)
        try statement.bind(reason.rawValue, at: 2)
        try statement.bind(name, at: 3)
        try statement.run()
        return database.changes == 1
    }

    /// Every live share, oldest first: what a restarted relay restores.
    public func liveShares() throws -> [ShareRecord] {
        try records(try database.prepare("SELECT \(Self.readColumns) FROM shares WHERE ended_at IS NULL ORDER BY created_at"))
    }

    /// Ended shares, most recently ended first; `owner` nil means everyone's (what an admin sees).
    public func history(owner: Int64?, limit: Int) throws -> [ShareRecord] {
        let statement: SQLiteStatement
        if let owner {
            statement = try database.prepare(
                "SELECT \(Self.readColumns) FROM shares WHERE ended_at IS NOT NULL AND owner_id = ?1 ORDER BY ended_at DESC LIMIT ?2")
            try statement.bind(owner, at: 1)
            try statement.bind(limit, at: 2)
        } else {
            statement = try database.prepare("SELECT \(Self.readColumns) FROM shares WHERE ended_at IS NOT NULL ORDER BY ended_at DESC LIMIT ?1")
            try statement.bind(limit, at: 1)
        }
        return try records(statement)
    }

    private func records(_ statement: SQLiteStatement) throws -> [ShareRecord] {
        var shares: [ShareRecord] = []
        while try statement.step() == .row {
            var reason: ShareEndReason?
            if let raw = statement.string(at: 8) {
                guard let known = ShareEndReason(rawValue: raw) else {
                    throw StoreError.corrupt(path: database.path, detail: "share end reason \"\(raw)\" is not one vshare writes")
                }
                reason = known
            }
            shares.append(ShareRecord(
                name: statement.string(at: 0) ?? "", ownerID: statement.optionalInt64(at: 1), target: statement.string(at: 2) ?? "",
                optionsJSON: statement.string(at: 3) ?? "", resumeSecret: statement.string(at: 4) ?? "",
                createdAt: Date(unixMilliseconds: statement.int64(at: 5)),
                expiresAt: statement.optionalInt64(at: 6).map(Date.init(unixMilliseconds:)),
                endedAt: statement.optionalInt64(at: 7).map(Date.init(unixMilliseconds:)), endReason: reason,
                requests: statement.int64(at: 9), bytes: statement.int64(at: 10)))
        }
        return shares
    }
}
