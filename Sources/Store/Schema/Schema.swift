/// The relay database's schema: its versioned migrations, applied in order, each in its own
/// transaction, with `PRAGMA user_version` as the version and `PRAGMA application_id` marking the
/// file as vshare's (so a stray SQLite file in the data directory is refused, not altered).
public enum Schema {
    /// "vshr" in ASCII, stored in the SQLite header by the first migration.
    public static let applicationID: Int64 = 0x7673_6872

    static let migrations: [Migration] = [SchemaV1.migration, SchemaV2.migration, SchemaV3.migration]

    /// The version this binary writes and understands.
    public static var version: Int { migrations.last?.version ?? 0 }

    /// Brings `database` to `version`: creates an empty file's tables, upgrades an older file, does
    /// nothing to a current one, and refuses a newer or foreign one without touching it.
    public static func migrate(_ database: SQLiteDatabase) throws {
        try migrate(database, with: migrations)
    }

    /// `migrate` with another list of steps, for tests of the upgrade path.
    static func migrate(_ database: SQLiteDatabase, with steps: [Migration]) throws {
        let known = steps.last?.version ?? 0
        try checkOwnership(database, known: known)
        let start = try userVersion(database)
        for step in steps where step.version > start {
            try database.inTransaction {
                // Another process may have migrated between our read and our lock: re-read under it.
                let current = try userVersion(database)
                if current > known { throw StoreError.newerSchema(path: database.path, found: current, known: known) }
                guard current < step.version else { return }
                try database.execute(step.sql)
                try step.rewrite?(database)
                // PRAGMA takes no parameters; the version is our own integer, never input.
                try database.execute("PRAGMA user_version = \(step.version)")
                if current == 0 { try database.execute("PRAGMA application_id = \(applicationID)") }
            }
        }
    }

    /// Throws unless the file is empty or vshare's at a version this binary knows.
    private static func checkOwnership(_ database: SQLiteDatabase, known: Int) throws {
        let application = try pragma(database, "application_id")
        let version = try userVersion(database)
        if application == 0 && version == 0 {
            let tables = try database.prepare("SELECT count(*) FROM sqlite_schema")
            _ = try tables.step()
            guard tables.int64(at: 0) == 0 else {
                throw StoreError.notVshareDatabase(path: database.path, detail: "it holds tables another program created")
            }
            return
        }
        guard application == applicationID else {
            throw StoreError.notVshareDatabase(path: database.path, detail: "its SQLite application id is \(application), not vshare's")
        }
        if version > known { throw StoreError.newerSchema(path: database.path, found: version, known: known) }
    }

    static func userVersion(_ database: SQLiteDatabase) throws -> Int { Int(try pragma(database, "user_version")) }

    private static func pragma(_ database: SQLiteDatabase, _ name: String) throws -> Int64 {
        let statement = try database.prepare("PRAGMA \(name)")
        _ = try statement.step()
        return statement.int64(at: 0)
    }
}
