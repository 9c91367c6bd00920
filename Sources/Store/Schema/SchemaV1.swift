/// Schema version 1. Times are INTEGER Unix milliseconds (UTC): sortable, compact, exact.
/// The log tables (access_log, connect_sessions, ssh_events, audit) have no foreign keys on purpose:
/// a log row must never be refused (its share may be gone, or never stored), and retention deletes
/// them on its own schedule. (Version 2 changes the log tables' indexes: SchemaV2; version 3
/// adds access_log.aborted: SchemaV3.)
enum SchemaV1 {
    static let migration = Migration(version: 1, sql: """
        -- Written by `vshare relay user add/remove/token` and by the relay's first start, which imports
        -- the owner token as `admin`. Read by every authentication.
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,                -- what shares point to; a removed name may come back as a new user
            name TEXT NOT NULL UNIQUE,             -- what the operator types and the interface shows
            token_hash BLOB NOT NULL,              -- HMAC-SHA256 keyed with the salt over the token; never the token
            token_salt BLOB NOT NULL,              -- random per token, so two users' hashes never match
            created_at INTEGER NOT NULL,
            is_admin INTEGER NOT NULL DEFAULT 0    -- 1: sees and acts on every share; 0: only on their own
        );

        -- Written by the relay when a share registers (one row for its whole life) and when it ends.
        -- Live rows (ended_at NULL) are what a restarted relay restores; ended rows are the history.
        CREATE TABLE shares (
            name TEXT PRIMARY KEY,                 -- the public name; never reused while its history is kept
            owner_id INTEGER REFERENCES users(id) ON DELETE SET NULL,  -- the user whose token registered it
            target TEXT NOT NULL,                  -- what it shares, as shown in the interface
            options_json TEXT NOT NULL,            -- the share's options, to restore it exactly after a restart
            resume_secret TEXT NOT NULL,           -- lets the agent reclaim the name after a relay restart (v2: its digest)
            created_at INTEGER NOT NULL,
            expires_at INTEGER,                    -- NULL: no expiry; still enforced after a restart
            ended_at INTEGER,                      -- NULL while live
            end_reason TEXT                        -- why it ended (ShareEndReason), NULL while live
        );
        CREATE INDEX shares_by_end ON shares(ended_at);
        CREATE INDEX shares_by_owner_end ON shares(owner_id, ended_at);

        -- Written by the log writer, one row per HTTP request through a share, refused ones included.
        CREATE TABLE access_log (
            id INTEGER PRIMARY KEY,
            share TEXT NOT NULL,
            time INTEGER NOT NULL,                 -- when the request arrived
            client TEXT NOT NULL,                  -- the TCP peer's address (never X-Forwarded-For)
            method TEXT NOT NULL,
            path TEXT NOT NULL,                    -- as sent; escaped when shown
            status INTEGER NOT NULL,               -- the status the client got
            bytes INTEGER NOT NULL,                -- response bytes sent to the client
            duration_ms INTEGER NOT NULL,          -- from request to end of response
            user_agent TEXT NOT NULL,
            refusal_reason TEXT                    -- why the relay refused it (basic auth, allow-ip), NULL if forwarded
        );
        CREATE INDEX access_log_by_share_time ON access_log(share, time);
        CREATE INDEX access_log_by_time ON access_log(time);

        -- Written by the log writer when a connect peer's end-to-end session through a share ends.
        CREATE TABLE connect_sessions (
            id INTEGER PRIMARY KEY,
            share TEXT NOT NULL,
            client TEXT NOT NULL,                  -- the peer's address as the relay saw it
            started_at INTEGER NOT NULL,
            ended_at INTEGER                       -- NULL if the relay stopped before the session did
        );
        CREATE INDEX connect_sessions_by_share_start ON connect_sessions(share, started_at);
        CREATE INDEX connect_sessions_by_start ON connect_sessions(started_at);

        -- Written by the log writer for SSH sharing: sealed keys released and key-release proofs refused.
        CREATE TABLE ssh_events (
            id INTEGER PRIMARY KEY,
            share TEXT NOT NULL,
            time INTEGER NOT NULL,
            client TEXT NOT NULL,
            kind TEXT NOT NULL                     -- SSHEventKind: what happened
        );
        CREATE INDEX ssh_events_by_share_time ON ssh_events(share, time);
        CREATE INDEX ssh_events_by_time ON ssh_events(time);

        -- Written by the log writer: who did what to which user, share or ACL, logins and failed logins.
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            time INTEGER NOT NULL,
            actor TEXT NOT NULL,                   -- a user name, or the client address of a failed login
            action TEXT NOT NULL,                  -- e.g. login, login-failed, share-created, share-expired, user-added
            subject TEXT NOT NULL,                 -- what it acted on: a share or user name, or empty
            detail TEXT NOT NULL                   -- free text for the interface, or empty
        );
        CREATE INDEX audit_by_time ON audit(time);
        """)
}
