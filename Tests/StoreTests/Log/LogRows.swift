import Foundation
@testable import Store

/// Sample rows for the log tests.
enum LogRows {
    static func access(_ index: Int, share: String = "frosty-weasel-0857", client: String = "10.0.0.2:40000",
                       time: Date = Date(timeIntervalSince1970: 1_700_000_000)) -> LogRow {
        .access(AccessLogEntry(share: share, time: time, client: client, method: "GET", path: "/page/\(index)", status: 200,
                               bytes: Int64(index), durationMilliseconds: 3, userAgent: "curl/7.88.1"))
    }

    static func audit(_ action: String, time: Date = Date(timeIntervalSince1970: 1_700_000_000)) -> LogRow {
        .audit(AuditEntry(time: time, actor: "admin", action: action, subject: "frosty-weasel-0857"))
    }
}

extension LogInserter {
    /// One row, packed as the queue packs it (the tests' way to put rows in directly).
    func insert(_ row: LogRow) throws {
        let packed = PackedRows(capacity: 1 << 16)
        precondition(packed.append(row))
        try insert(packed)
    }
}

extension PackedRows {
    /// The rows back as values (what the writer would bind), for the tests' comparisons.
    func decoded() -> [[PackedRows.Field]] {
        var cursor = start
        var rows: [[PackedRows.Field]] = []
        while let kind = nextKind(&cursor) { rows.append((0..<kind.fieldCount).map { _ in nextField(&cursor) }) }
        return rows
    }
}
