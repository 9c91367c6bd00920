/// One step of the schema: the SQL that takes the database from `version - 1` to `version`, and
/// what SQL cannot do (`rewrite`, run after it in the same transaction).
/// Steps are append-only: a released step is never edited, a change is a new step.
struct Migration: Sendable {
    let version: Int
    let sql: String
    var rewrite: (@Sendable (SQLiteDatabase) throws -> Void)? = nil
}
