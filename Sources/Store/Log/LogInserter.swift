import Glibc

/// The log writer's prepared INSERTs, compiled once and reused for every batch, and the shares'
/// running totals it keeps in the same transaction.
///
/// Access-log rows go in `accessRowsPerStatement` at a time through one multi-row INSERT (the rest
/// one by one): measured on the relay's rows, a statement per row cost about twice the CPU per row
/// (docs/BENCHMARKS.md, issue 10). Values are bound straight from the packed batch (no copy), and
/// every bound value is replaced before each run, so bindings are cleared once per batch.
final class LogInserter {
    static let accessRowsPerStatement = 32

    private let accessMany: SQLiteStatement
    /// One single-row INSERT per kind, by `PackedRows.Kind.rawValue`.
    private let single: [SQLiteStatement]
    private let addToTotals: SQLiteStatement

    init(database: SQLiteDatabase) throws {
        let accessColumns = "share, time, client, method, path, status, bytes, duration_ms, user_agent, refusal_reason, aborted"
        let fields = PackedRows.Kind.access.fieldCount
        let many = (0..<Self.accessRowsPerStatement).map { row in
            "(" + (1...fields).map { "?\(row * fields + $0)" }.joined(separator: ", ") + ")"
        }
        accessMany = try database.prepare("INSERT INTO access_log (\(accessColumns)) VALUES \(many.joined(separator: ", "))")
        single = try PackedRows.Kind.allCases.map { kind in
            switch kind {
            case .access:
                return try database.prepare("INSERT INTO access_log (\(accessColumns)) VALUES \(many[0])")
            case .audit:
                return try database.prepare("INSERT INTO audit (time, actor, action, subject, detail) VALUES (?1, ?2, ?3, ?4, ?5)")
            case .connectSession:
                return try database.prepare("INSERT INTO connect_sessions (share, client, started_at, ended_at) VALUES (?1, ?2, ?3, ?4)")
            case .sshEvent:
                return try database.prepare("INSERT INTO ssh_events (share, time, client, kind) VALUES (?1, ?2, ?3, ?4)")
            }
        }
        // A row for a share the store does not have (`-`, the unknown host) changes nothing.
        addToTotals = try database.prepare("UPDATE shares SET requests = requests + ?2, bytes = bytes + ?3 WHERE name = ?1")
    }

    /// Inserts every row of `rows`, and adds each share's access rows to its totals (`shares.requests`,
    /// `shares.bytes`), all in the caller's transaction.
    func insert(_ rows: PackedRows) throws {
        defer {
            // The bindings point into `rows`, which the queue refills.
            accessMany.clearBindings()
            for statement in single { statement.clearBindings() }
            addToTotals.clearBindings()
        }
        var totals = ShareTotals()
        var cursor = rows.start
        var runStart = cursor
        var bound = 0
        while let kind = rows.nextKind(&cursor) {
            guard kind == .access else {
                try bind(kind.fieldCount, from: rows, at: &cursor, to: single[Int(kind.rawValue)], from: 1)
                try single[Int(kind.rawValue)].runKeepingBindings()
                continue
            }
            let (share, bytes) = try bind(kind.fieldCount, from: rows, at: &cursor, to: accessMany, from: bound * kind.fieldCount + 1)
            totals.add(share: share, bytes: bytes)
            bound += 1
            if bound == Self.accessRowsPerStatement {
                try accessMany.runKeepingBindings()
                bound = 0
                runStart = cursor
            }
        }
        if bound > 0 { try insertAccessRowsOneByOne(rows, from: runStart) }
        for share in totals.shares {
            try addToTotals.bind(text: share.name, at: 1)
            try addToTotals.bind(share.requests, at: 2)
            try addToTotals.bind(share.bytes, at: 3)
            try addToTotals.runKeepingBindings()
        }
    }

    /// The access rows after the last full multi-row INSERT (other rows there are already in).
    private func insertAccessRowsOneByOne(_ rows: PackedRows, from start: PackedRows.Cursor) throws {
        var cursor = start
        let statement = single[Int(PackedRows.Kind.access.rawValue)]
        while let kind = rows.nextKind(&cursor) {
            guard kind == .access else {
                for _ in 0..<kind.fieldCount { _ = rows.nextField(&cursor) }
                continue
            }
            try bind(kind.fieldCount, from: rows, at: &cursor, to: statement, from: 1)
            try statement.runKeepingBindings()
        }
    }

    /// Binds a row's fields to parameters `first`, `first + 1`, ...; returns its first text field
    /// and its seventh integer field (an access row's share and bytes).
    @discardableResult
    private func bind(_ count: Int, from rows: PackedRows, at cursor: inout PackedRows.Cursor, to statement: SQLiteStatement,
                      from first: Int) throws -> (share: UnsafeRawBufferPointer, bytes: Int64) {
        var share = UnsafeRawBufferPointer(start: nil, count: 0)
        var bytes: Int64 = 0
        for index in 0..<count {
            let field = rows.nextField(&cursor)
            switch field {
            case .null: try statement.bindNull(at: first + index)
            case .integer(let value):
                if index == 6 { bytes = value }
                try statement.bind(value, at: first + index)
            case .text(let text):
                if index == 0 { share = text }
                try statement.bind(text: text, at: first + index)
            }
        }
        return (share, bytes)
    }
}

/// Requests and bytes per share within one batch: a batch holds few shares, so a short list
/// compared by bytes beats hashing every row's share name.
private struct ShareTotals {
    struct Share {
        let name: UnsafeRawBufferPointer
        var requests: Int64
        var bytes: Int64
    }

    private(set) var shares: [Share] = []

    mutating func add(share name: UnsafeRawBufferPointer, bytes: Int64) {
        for index in shares.indices where shares[index].name.count == name.count
            && (name.isEmpty || memcmp(shares[index].name.baseAddress!, name.baseAddress!, name.count) == 0) {
            shares[index].requests += 1
            shares[index].bytes += bytes
            return
        }
        shares.append(Share(name: name, requests: 1, bytes: bytes))
    }
}
