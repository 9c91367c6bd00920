import Glibc

/// What went wrong with the relay's database, worded for the operator who has to fix it.
public enum StoreError: Error, Equatable, CustomStringConvertible {
    /// sqlite3_open_v2 failed (missing directory, no permission, ...).
    case cannotOpen(path: String, code: Int32, message: String)
    /// Another connection holds the write lock longer than the busy timeout.
    case locked(path: String)
    /// The file is not an SQLite database, or an SQLite database some other program made.
    case notVshareDatabase(path: String, detail: String)
    /// SQLite reports the file as damaged.
    case corrupt(path: String, detail: String)
    /// The schema version is one this binary does not know: a newer vshare wrote it.
    case newerSchema(path: String, found: Int, known: Int)
    /// Any other SQLite failure: the call, SQLite's result code and message.
    case sqlite(operation: String, path: String, code: Int32, message: String)
    /// An OpenSSL call failed; `detail` is OpenSSL's error queue.
    case openSSL(operation: String, detail: String)
    /// A user name outside the allowed alphabet or length.
    case invalidUserName(String)
    /// `admin` belongs to the relay's owner token (UserStore.ensureAdmin), never to `user add`.
    case reservedUserName(String)
    case userExists(String)
    case noSuchUser(String)
    /// Admins are removed by hand, never by `user remove`, so the relay always keeps one.
    case cannotRemoveAdmin(String)
    /// A share name already in the store (live or in the history).
    case shareExists(String)
    /// pthread_create failed for the log writer's thread.
    case cannotStartWriter(errno: Int32)
    /// A read ran past its time limit (`SQLiteDatabase.withTimeLimit`) and was stopped.
    case tooSlow(seconds: Double)

    public var description: String {
        switch self {
        case let .cannotOpen(path, code, message):
            return "cannot open the relay's database \(path): \(message) (SQLite code \(code)). "
                + "Check that the data directory exists and is writable by the user running vshare."
        case let .locked(path):
            return "the relay's database \(path) is locked by another process (another relay or `vshare relay user` on the same "
                + "data directory). Stop it, or give this relay its own --data-dir."
        case let .notVshareDatabase(path, detail):
            return "\(path) is not a vshare database (\(detail)). Move it out of the data directory; the relay then creates a new one."
        case let .corrupt(path, detail):
            return "the relay's database \(path) is damaged (\(detail)). Restore it from a backup, or move it away to start "
                + "with no users (the owner token becomes `admin` again) and no history."
        case let .newerSchema(path, found, known):
            return "\(path) was written by a newer vshare (schema \(found), this vshare knows \(known)). "
                + "Run the newer vshare, or point this one at another --data-dir."
        case let .sqlite(operation, path, code, message):
            return "SQLite could not \(operation) in \(path): \(message) (code \(code)). "
                + "Check free disk space and the data directory's permissions."
        case let .openSSL(operation, detail):
            return "OpenSSL could not \(operation): \(detail). This is unexpected; check that libssl3 is installed and intact."
        case let .invalidUserName(name):
            return "\"\(name)\" is not a valid user name: use 1 to 64 letters, digits, '.', '_' or '-'."
        case let .reservedUserName(name):
            return "\"\(name)\" is reserved for the relay's owner token; choose another name."
        case let .userExists(name):
            return "a user named \(name) already exists; choose another name, or `vshare relay user token \(name)` for a new token."
        case let .noSuchUser(name):
            return "there is no user named \(name); `vshare relay user list` shows them."
        case let .cannotRemoveAdmin(name):
            return "\(name) is an administrator and cannot be removed; give them a new token with `vshare relay user token \(name)`."
        case let .shareExists(name):
            return "a share named \(name) is already in the relay's store; pick another name."
        case let .cannotStartWriter(code):
            return "cannot start the log writer's thread: \(String(cString: strerror(code))) (errno \(code)). "
                + "The system is out of threads or memory; lower the load or raise the process limits."
        case let .tooSlow(seconds):
            return "the search took longer than \(Int(seconds * 1000)) ms and was stopped: narrow it (a longer path, a status class)"
        }
    }
}
