import Console
import Foundation
import Store
import Transport
import Wire

/// The relay's side of its database (`DATA_DIR/relay.db`): who owns a token, which shares are
/// live (so a restarted relay gives agents back their names), how shares ended, and the log rows.
///
/// Share and user rows are written where they happen, under one lock: they come a few times per
/// share, never per request. Log rows (access log, audit) go through `LogWriter`'s bounded queue
/// to its own thread, so no event loop ever waits for the disk; when the disk cannot keep up they
/// are dropped and counted (`droppedLogRows`).
final class RelayStore: @unchecked Sendable {
    static let fileName = "relay.db"

    private let lock = Lock()
    private let database: SQLiteDatabase
    private let users: UserStore
    private let shares: ShareStore
    private let log: LogWriter
    /// Reads for the web interface, on the main connection: they are small and indexed, and the
    /// writer's connection belongs to its thread.
    private let reader: LogReader

    /// SIGHUP's `--log-retention`: the writer's next pass applies it.
    func setRetention(_ retention: LogRetention) { log.setRetention(retention) }

    init(dataDir: String, retention: LogRetention) throws {
        let path = (dataDir as NSString).appendingPathComponent(Self.fileName)
        database = try SQLiteDatabase(path: path)
        try Schema.migrate(database)
        users = UserStore(database: database)
        shares = ShareStore(database: database)
        reader = LogReader(database: database)
        var configuration = LogWriter.Configuration()
        configuration.retention = retention
        log = try LogWriter(path: path, configuration: configuration)
    }

    /// The data directory's owner token is the `admin` user (made on the first start).
    @discardableResult
    func importOwner(token: String) throws -> User {
        try lock.withLock { try users.ensureAdmin(token: token) }
    }

    /// The user a token belongs to; nil for none (or when the database fails, which is said once).
    func user(forToken token: String) -> User? {
        lock.withLock {
            do {
                return try users.authenticate(token: token)
            } catch {
                Self.reportOnce("cannot check a token against the database: \(error)")
                return nil
            }
        }
    }

    /// Every user as a share's owner, by id (to name the owners of restored shares).
    func owners() -> [Int64: ShareOwner] {
        let list: [User] = lock.withLock { (try? users.list()) ?? [] }
        return Dictionary(uniqueKeysWithValues: list.map { ($0.id, ShareOwner(id: $0.id, name: $0.name, isAdmin: $0.isAdmin)) })
    }

    // MARK: Shares

    /// A new share: its options are the agent's request without its secrets (no token), so a
    /// restarted relay can rebuild the entry exactly (`restorable`).
    func shareCreated(_ entry: ShareEntry, owner: ShareOwner?, request: CreateShare) {
        let target = request.target ?? ""
        var options = request
        options.token = nil
        options.resume = nil
        let json = String(decoding: (try? JSONEncoder().encode(options)) ?? Data(), as: UTF8.self)
        let now = Date()
        let record = ShareRecord(name: entry.name, ownerID: owner?.id, target: target, optionsJSON: json,
                                 resumeSecret: ResumeSecretDigest.of(entry.resumeSecret), createdAt: now,
                                 expiresAt: now.addingTimeInterval(entry.expiresAt - MonotonicClock.now()))
        write("save share \(entry.name)") { try shares.save(record) }
        audit(actor: owner?.name ?? "?", action: "share.created", subject: entry.name, detail: target)
    }

    /// `note` follows the reason in the audit trail (how a user asked for it, from where).
    func shareEnded(_ name: String, reason: Store.ShareEndReason, by actor: String = "relay", note: String? = nil) {
        write("end share \(name)") { _ = try shares.end(name: name, reason: reason, at: Date()) }
        audit(actor: actor, action: "share.ended", subject: name, detail: note.map { "\(reason.summary) \($0)" } ?? reason.summary)
    }

    /// Live shares of the previous run, with the request each was made from. Ones that expired
    /// while the relay was down are ended here.
    func restorable() -> [(record: ShareRecord, request: CreateShare)] {
        let records: [ShareRecord] = lock.withLock { (try? shares.liveShares()) ?? [] }
        var out: [(ShareRecord, CreateShare)] = []
        let now = Date()
        for record in records {
            if let expires = record.expiresAt, expires <= now {
                shareEnded(record.name, reason: .expired)
                continue
            }
            guard let request = try? JSONDecoder().decode(CreateShare.self, from: Data(record.optionsJSON.utf8)) else {
                shareEnded(record.name, reason: .relayShutdown)
                continue
            }
            out.append((record, request))
        }
        return out
    }

    // MARK: Reads for the web interface

    /// The share of this name, live or ended (nil: the store never had it).
    func share(named name: String) -> ShareRecord? {
        read("read share \(name)", nil) { try shares.share(named: name) }
    }

    /// The id of the user of this name (to match shares by owner: a removed name may come back).
    func userID(named name: String) -> Int64? {
        read("find user \(name)", nil) { try users.find(name: name)?.id }
    }

    /// Ended shares, most recently ended first, with their totals (kept per share by the log writer,
    /// so showing them never walks the access log); `owner` nil: everyone's.
    func history(owner: Int64?, limit: Int) -> [ShareRecord] {
        read("read the share history", []) { try shares.history(owner: owner, limit: limit) }
    }

    /// Throws only `StoreError.tooSlow` (a search past its time limit: the page says to narrow it);
    /// any other failure shows an empty page and is said once.
    func accessLog(share: String, filter: AccessLogFilter) throws -> [Logged<AccessLogEntry>] {
        try lock.withLock {
            do {
                return try reader.accessLog(share: share, filter: filter)
            } catch StoreError.tooSlow(let seconds) {
                throw StoreError.tooSlow(seconds: seconds)
            } catch {
                Self.reportOnce("cannot read the access log from the database: \(error)")
                return []
            }
        }
    }

    func connectSessions(share: String, limit: Int) -> [Logged<ConnectSessionEntry>] {
        read("read connect sessions", []) { try reader.connectSessions(share: share, limit: limit) }
    }

    func sshEvents(share: String, limit: Int) -> [Logged<SSHEventEntry>] {
        read("read SSH events", []) { try reader.sshEvents(share: share, limit: limit) }
    }

    func auditTrail(before: Int64?, limit: Int) -> [Logged<AuditEntry>] {
        read("read the audit trail", []) { try reader.audit(before: before, limit: limit) }
    }

    // MARK: Log rows (never blocking)

    func access(_ entry: AccessLogEntry) {
        _ = log.append(.access(entry))
    }

    func audit(actor: String, action: String, subject: String = "", detail: String = "") {
        _ = log.append(.audit(AuditEntry(time: Date(), actor: actor, action: action, subject: subject, detail: detail)))
    }

    func connectSession(share: String, client: String, startedAt: Date) {
        _ = log.append(.connectSession(ConnectSessionEntry(share: share, client: client, startedAt: startedAt, endedAt: Date())))
    }

    func sshEvent(share: String, client: String, kind: SSHEventKind) {
        _ = log.append(.sshEvent(SSHEventEntry(share: share, time: Date(), client: client, kind: kind)))
    }

    var droppedLogRows: Int { log.dropped }

    /// Flushes queued rows (relay shutdown).
    func close() { log.close() }

    // MARK: Helpers

    private func write(_ what: String, _ body: () throws -> Void) {
        lock.withLock {
            do { try body() } catch { Self.reportOnce("cannot \(what) in the database: \(error)") }
        }
    }

    /// A read that fails shows `fallback` (an empty page) and says so once.
    private func read<Value>(_ what: String, _ fallback: Value, _ body: () throws -> Value) -> Value {
        lock.withLock {
            do { return try body() } catch {
                Self.reportOnce("cannot \(what) from the database: \(error)")
                return fallback
            }
        }
    }

    nonisolated(unsafe) private static var reported = Set<String>()
    private static let reportLock = Lock()

    /// A database failure is worth one line, not one per request.
    private static func reportOnce(_ message: String) {
        let first = reportLock.withLock { reported.insert(message).inserted }
        if first { Console.error("==> relay: \(message)") }
    }
}
