import Console
import Foundation
import Store

/// `vshare relay user add|list|remove|token [NAME]`: the relay's users, managed on the relay host
/// against the same data directory (DIR/relay.db) a running relay uses — SQLite's locking makes
/// the two safe side by side. Tokens are printed once and stored only as salted hashes.
enum RelayUserCommand {
    static func run(_ arguments: [String], usage: String) -> Int32 {
        var scanner = ArgumentScanner(arguments)
        let parsed: ArgumentScanner.Parsed
        do {
            parsed = try scanner.parse(flags: [], options: ["data-dir"])
        } catch {
            return CLI.usageError(error, usage)
        }
        let words = parsed.positionals
        guard let action = words.first, ["add", "list", "remove", "token"].contains(action) else {
            return CLI.usageError(ArgumentScanner.UsageError("relay user needs add, list, remove or token"), usage)
        }
        let needsName = action != "list"
        guard words.count == (needsName ? 2 : 1) else {
            return CLI.usageError(ArgumentScanner.UsageError(needsName ? "relay user \(action) needs one NAME" : "relay user list takes no NAME"), usage)
        }
        let dataDir = parsed.last("data-dir") ?? Environment.defaultRelayDataDir
        let path = (dataDir as NSString).appendingPathComponent("relay.db")
        do {
            let database = try SQLiteDatabase(path: path, mode: FileManager.default.fileExists(atPath: path) ? .readWrite : .readWriteCreate)
            try Schema.migrate(database)
            let users = UserStore(database: database)
            switch action {
            case "add":
                let token = try users.add(name: words[1])
                try audit(path: path, action: "user.added", subject: words[1])
                Console.out("Added user \(words[1]). Their token (shown only now): \(token)")
            case "token":
                let token = try users.rotateToken(name: words[1])
                try audit(path: path, action: "user.token", subject: words[1])
                Console.out("New token for \(words[1]) (the old one no longer works): \(token)")
            case "remove":
                try users.remove(name: words[1])
                try audit(path: path, action: "user.removed", subject: words[1])
                Console.out("Removed user \(words[1]); their shares stay in the history.")
            default:
                for user in try users.list() {
                    Console.out("\(user.name)\(user.isAdmin ? " (admin)" : "")")
                }
            }
            return 0
        } catch {
            Console.error("error: \(error)")
            return 1
        }
    }

    /// User changes go into the audit trail, as the relay's own events do (through the same writer,
    /// flushed before the command exits). The actor is the host account that ran the command.
    private static func audit(path: String, action: String, subject: String) throws {
        var configuration = LogWriter.Configuration()
        configuration.retention = nil   // the relay applies retention; a one-row command need not
        let writer = try LogWriter(path: path, configuration: configuration)
        let actor = "cli:" + (ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"] ?? "?")
        writer.append(.audit(AuditEntry(time: Date(), actor: actor, action: action, subject: subject)))
        writer.close()
    }
}
