import CSQLite

/// A compiled statement. Parameters are 1-based (`?1`, `?2`, ... as SQLite numbers them), columns
/// 0-based. Reusable: `reset()` and bind again. It keeps its database open while it lives.
public final class SQLiteStatement {
    public enum Step: Sendable {
        /// A row is ready for the column readers.
        case row
        /// The statement has finished; `reset()` before running it again.
        case done
    }

    private let database: SQLiteDatabase
    private let handle: OpaquePointer
    private let sql: String

    init(database: SQLiteDatabase, handle: OpaquePointer, sql: String) {
        self.database = database
        self.handle = handle
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    // MARK: binding

    public func bind(_ value: Int64, at index: Int) throws {
        try check(sqlite3_bind_int64(handle, Int32(index), value), "bind parameter \(index)")
    }

    public func bind(_ value: Int, at index: Int) throws { try bind(Int64(value), at: index) }

    public func bind(_ value: Double, at index: Int) throws {
        try check(sqlite3_bind_double(handle, Int32(index), value), "bind parameter \(index)")
    }

    /// Text is copied by SQLite (SQLITE_TRANSIENT), so the Swift string may go away at once.
    public func bind(_ value: String, at index: Int) throws {
        let code = value.utf8.withContiguousStorageIfAvailable { bytes in
            bytes.withMemoryRebound(to: CChar.self) { sqlite3_bind_text(handle, Int32(index), $0.baseAddress, Int32($0.count), csqlite_transient()) }
        } ?? sqlite3_bind_text(handle, Int32(index), value, -1, csqlite_transient())
        try check(code, "bind parameter \(index)")
    }

    /// A blob (an empty array binds an empty blob, not NULL).
    public func bind(_ value: [UInt8], at index: Int) throws {
        // A NULL pointer would bind NULL, and an empty array may have no storage: zeroblob(0) is the empty blob.
        let code = value.isEmpty ? sqlite3_bind_zeroblob(handle, Int32(index), 0) : value.withUnsafeBytes { raw in
            sqlite3_bind_blob(handle, Int32(index), raw.baseAddress, Int32(raw.count), csqlite_transient())
        }
        try check(code, "bind parameter \(index)")
    }

    /// Text that stays where it is until the statement has run and its bindings are cleared
    /// (SQLITE_STATIC: SQLite reads it in place, no copy). The log writer binds packed rows this way.
    func bind(text: UnsafeRawBufferPointer, at index: Int) throws {
        // A nil pointer would bind NULL: empty text without storage is bound as a copied "".
        guard let base = text.baseAddress else { return try bind("", at: index) }
        try check(sqlite3_bind_text(handle, Int32(index), base.assumingMemoryBound(to: CChar.self), Int32(text.count), nil),
                  "bind parameter \(index)")
    }

    public func bindNull(at index: Int) throws {
        try check(sqlite3_bind_null(handle, Int32(index)), "bind parameter \(index)")
    }

    /// Binds text, or NULL for nil (the optional columns: end reason, refusal reason).
    public func bind(_ value: String?, at index: Int) throws {
        if let value { try bind(value, at: index) } else { try bindNull(at: index) }
    }

    /// Binds an integer, or NULL for nil (the optional times).
    public func bind(_ value: Int64?, at index: Int) throws {
        if let value { try bind(value, at: index) } else { try bindNull(at: index) }
    }

    // MARK: running

    public func step() throws -> Step {
        let code = sqlite3_step(handle)
        switch code {
        case SQLITE_ROW: return .row
        case SQLITE_DONE: return .done
        default:
            // Reset makes the statement usable again after a failure (busy, constraint).
            sqlite3_reset(handle)
            throw database.error(code, "run \"\(sql.prefix(60))\"")
        }
    }

    /// Steps a statement that returns no rows (INSERT, UPDATE, DELETE), then resets it.
    public func run() throws {
        defer { reset() }
        _ = try step()
    }

    /// Rewinds the statement and clears its bindings (all back to NULL).
    public func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// `run` for a caller that binds every parameter before each run: rewinds without clearing.
    func runKeepingBindings() throws {
        defer { sqlite3_reset(handle) }
        _ = try step()
    }

    /// Drops every binding (text bound in place must not outlive its buffer).
    func clearBindings() { sqlite3_clear_bindings(handle) }

    // MARK: reading the current row

    public func isNull(at column: Int) -> Bool { sqlite3_column_type(handle, Int32(column)) == SQLITE_NULL }

    public func int64(at column: Int) -> Int64 { sqlite3_column_int64(handle, Int32(column)) }

    public func double(at column: Int) -> Double { sqlite3_column_double(handle, Int32(column)) }

    /// nil for NULL. Invalid UTF-8 is replaced, never trusted.
    public func string(at column: Int) -> String? {
        guard !isNull(at: column), let text = sqlite3_column_text(handle, Int32(column)) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, Int32(column)))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }

    /// nil for NULL; an empty blob reads as [].
    public func blob(at column: Int) -> [UInt8]? {
        guard !isNull(at: column) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, Int32(column)))
        guard count > 0, let bytes = sqlite3_column_blob(handle, Int32(column)) else { return [] }
        return Array(UnsafeRawBufferPointer(start: bytes, count: count))
    }

    /// nil for NULL (optional times).
    public func optionalInt64(at column: Int) -> Int64? { isNull(at: column) ? nil : int64(at: column) }

    /// `operation` is only built on failure: a bind happens ten times per access-log row, and
    /// formatting its message every time cost the log writer more than SQLite did (perf).
    private func check(_ code: Int32, _ operation: @autoclosure () -> String) throws {
        guard code == SQLITE_OK else { throw database.error(code, operation()) }
    }
}
