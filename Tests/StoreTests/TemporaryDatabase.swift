import Foundation
import Glibc
@testable import Store

/// A fresh directory per test holding `relay.db`, removed afterwards.
final class TemporaryDatabase {
    let directory: String
    var path: String { directory + "/relay.db" }

    init() {
        var template = Array("/tmp/vshare-store-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        directory = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// A new connection to the database, migrated to the current schema.
    func open(busyTimeout: Double = 5) throws -> SQLiteDatabase {
        let database = try SQLiteDatabase(path: path, busyTimeout: busyTimeout)
        try Schema.migrate(database)
        return database
    }
}

/// The single integer a query returns (counts, pragmas).
func scalar(_ database: SQLiteDatabase, _ sql: String) throws -> Int64 {
    let statement = try database.prepare(sql)
    guard try statement.step() == .row else { return -1 }
    return statement.int64(at: 0)
}
