import CSQLite
import Glibc

/// One SQLite connection. Not thread-safe by design: a connection and its statements belong to one
/// thread at a time (the relay's store on its thread, the log writer on its own), so SQLite is opened
/// without its per-call mutex.
public final class SQLiteDatabase {
    public enum OpenMode: Sendable {
        /// Create the file (mode 0600: it holds token hashes and resume secrets) when it is missing.
        case readWriteCreate
        case readWrite
        case readOnly
    }

    /// The path as given, for error messages.
    public let path: String
    let handle: OpaquePointer

    /// Opens `path` in WAL mode (readers never wait for the writer, and a commit is one append),
    /// with foreign keys on and `busyTimeout` seconds of retrying when another connection writes.
    public init(path: String, mode: OpenMode = .readWriteCreate, busyTimeout: Double = 5) throws {
        self.path = path
        if mode == .readWriteCreate && path != ":memory:" {
            // SQLite creates its files with the process umask and gives -wal/-shm the main file's mode:
            // creating the file first makes all three private to the relay's user. Only when it does
            // not exist yet (O_EXCL): closing any descriptor of a file drops every POSIX lock this
            // process holds on it, so opening and closing an existing database here would silently
            // unlock this process's other connections to it — another process would then think it
            // was alone, and delete the WAL file those connections still write to.
            let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd >= 0 { Glibc.close(fd) }
        }
        let flags: Int32
        switch mode {
        case .readWriteCreate: flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        case .readWrite: flags = SQLITE_OPEN_READWRITE
        case .readOnly: flags = SQLITE_OPEN_READONLY
        }
        var opened: OpaquePointer?
        let code = sqlite3_open_v2(path, &opened, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard code == SQLITE_OK, let opened else {
            let message = opened.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
            sqlite3_close_v2(opened)
            throw StoreError.cannotOpen(path: path, code: code, message: message)
        }
        handle = opened
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, Int32(busyTimeout * 1000))
        // The first statement reads the header: a file that is not SQLite fails here, as notVshareDatabase.
        if mode != .readOnly { try execute("PRAGMA journal_mode = WAL") }
        // In WAL mode NORMAL never corrupts the database; a power cut may lose the last commits, which
        // for access-log rows is the right trade for not syncing on every batch.
        try execute("PRAGMA synchronous = NORMAL")
        try execute("PRAGMA foreign_keys = ON")
    }

    deinit {
        // close_v2 defers the close until every statement is finalized, so order never matters.
        sqlite3_close_v2(handle)
    }

    /// Runs SQL with no parameters (schema, pragmas, transaction control); rows it returns are ignored.
    public func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &message)
        defer { sqlite3_free(message) }
        guard code == SQLITE_OK else {
            throw error(code, "run \"\(sql.prefix(60))\"", message: message.map { String(cString: $0) })
        }
    }

    /// Compiles one statement; values go in through its `bind` methods, never into `sql`.
    public func prepare(_ sql: String) throws -> SQLiteStatement {
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard code == SQLITE_OK, let statement else { throw error(code, "prepare \"\(sql.prefix(60))\"") }
        return SQLiteStatement(database: self, handle: statement, sql: sql)
    }

    /// Runs `body` in one write transaction, committed when it returns and rolled back when it throws.
    /// IMMEDIATE takes the write lock up front, so waiting for another writer goes through the busy
    /// timeout instead of failing at the first write (WAL's snapshot upgrade). Not reentrant.
    public func inTransaction<Result>(_ body: () throws -> Result) throws -> Result {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Runs `body` with its statements stopped after `seconds` (they throw `StoreError.tooSlow`): a
    /// search over a share with millions of rows must not hold the event loop that serves the page.
    /// SQLite calls the check every 1000 virtual-machine steps (a few microseconds).
    public func withTimeLimit<Result>(_ seconds: Double, _ body: () throws -> Result) throws -> Result {
        let deadline = UnsafeMutablePointer<Double>.allocate(capacity: 1)
        deadline.initialize(to: Self.monotonicNow() + seconds)
        sqlite3_progress_handler(handle, 1000, { context in
            // Nonzero interrupts the statement (SQLITE_INTERRUPT).
            guard let context else { return 0 }
            return SQLiteDatabase.monotonicNow() > context.load(as: Double.self) ? 1 : 0
        }, deadline)
        defer {
            sqlite3_progress_handler(handle, 0, nil, nil)
            deadline.deallocate()
        }
        do {
            return try body()
        } catch StoreError.tooSlow {
            throw StoreError.tooSlow(seconds: seconds)
        }
    }

    private static func monotonicNow() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1_000_000_000
    }

    /// The rowid of the last row this connection inserted.
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Rows changed by the last INSERT, UPDATE or DELETE on this connection.
    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// The typed error for a failed call: locks, foreign files and damage get their own cases.
    func error(_ code: Int32, _ operation: String, message: String? = nil) -> StoreError {
        let detail = message ?? String(cString: sqlite3_errmsg(handle))
        switch code & 0xff {
        case SQLITE_BUSY, SQLITE_LOCKED: return .locked(path: path)
        case SQLITE_NOTADB: return .notVshareDatabase(path: path, detail: detail)
        case SQLITE_CORRUPT: return .corrupt(path: path, detail: detail)
        // Only `withTimeLimit`'s handler interrupts, and it says how long the limit was.
        case SQLITE_INTERRUPT: return .tooSlow(seconds: 0)
        default: return .sqlite(operation: operation, path: path, code: code, message: detail)
        }
    }
}
