/// Schema version 2: what the log writer maintains per row, made cheaper (docs/BENCHMARKS.md, issue 10).
/// - Each access-log row fed two indexes, (share, time) and (time). One on `share` alone serves every
///   read: SQLite appends the row id to each entry, so a share's rows come out in arrival order, which
///   is what the pages show and page by. Retention walks row ids from the oldest (LogRetention), so no
///   log table needs an index on its time column any more.
/// - A share's totals were counted from its access-log rows each time the history showed them (a
///   walk of every row, about 0.2 s per million, on the event loop serving the page); the log writer
///   now adds each batch's rows to `shares.requests` and `shares.bytes` in the batch's transaction.
///   Existing rows are counted once here.
/// - Resume secrets were stored as given; now only their digest is (`ResumeSecretDigest`): live
///   shares' secrets are replaced by theirs, ended shares' (never needed again) by ''.
enum SchemaV2 {
    static let migration = Migration(version: 2, sql: """
        DROP INDEX access_log_by_share_time;
        DROP INDEX access_log_by_time;
        DROP INDEX connect_sessions_by_start;
        DROP INDEX ssh_events_by_time;
        DROP INDEX audit_by_time;
        CREATE INDEX access_log_by_share ON access_log(share);

        ALTER TABLE shares ADD COLUMN requests INTEGER NOT NULL DEFAULT 0;  -- access-log rows written for it
        ALTER TABLE shares ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;     -- the response bytes of those rows
        UPDATE shares SET requests = (SELECT count(*) FROM access_log WHERE share = shares.name),
                          bytes = (SELECT coalesce(sum(bytes), 0) FROM access_log WHERE share = shares.name);
        UPDATE shares SET resume_secret = '' WHERE ended_at IS NOT NULL;
        """, rewrite: digestLiveResumeSecrets)

    private static func digestLiveResumeSecrets(_ database: SQLiteDatabase) throws {
        let live = try database.prepare("SELECT name, resume_secret FROM shares WHERE ended_at IS NULL")
        var secrets: [(name: String, secret: String)] = []
        while try live.step() == .row { secrets.append((live.string(at: 0) ?? "", live.string(at: 1) ?? "")) }
        let update = try database.prepare("UPDATE shares SET resume_secret = ?2 WHERE name = ?1")
        for share in secrets {
            try update.bind(share.name, at: 1)
            try update.bind(ResumeSecretDigest.of(share.secret), at: 2)
            try update.run()
        }
    }
}
