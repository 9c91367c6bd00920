import Console
import Foundation
import Glibc
import Relay

/// `vshare logs NAME [--follow]`: a share's access log through the relay's web API, oldest of the
/// page first like `tail`, then (with `--follow`) each new request as it arrives until Ctrl-C.
enum LogsCommand {
    static let usage = """
    usage: vshare logs NAME [--follow] [--status 4xx] [--path TEXT] [--limit N] [--admin URL] [--token-file FILE]
      Print a share's access log: the last N requests (default 50), oldest first.
      --follow            keep printing new requests as they arrive, until Ctrl-C
      --status CLASS      only 2xx, 3xx, 4xx or 5xx answers
      --path TEXT         only requests whose path contains TEXT
      --limit N           how many past requests to print first (1 to 500)
      --admin URL         the relay's web interface (default http://127.0.0.1:7444)
      --token-file FILE   a file holding your token on the relay (env VSHARE_TOKEN; default
                          ~/.vshare/relay/token; --token TOKEN works too, with a warning)
    """

    private struct Answer: Decodable {
        var rows: [AdminAccessRow]
        var next: Int64?
        var droppedLogRows: Int
    }

    /// How often `--follow` asks for new rows.
    static let pollInterval: useconds_t = 1_000_000

    static func run(_ arguments: [String]) -> Int32 {
        AdminCommands.run(arguments, positionals: 1, usage: usage, extraFlags: ["follow"],
                          extraOptions: ["status", "path", "limit"]) { client, names, parsed throws(AdminClient.Failure) in
            let name = names[0]
            var filter: [(String, String)] = []
            if let status = parsed.last("status") { filter.append(("status", status)) }
            if let path = parsed.last("path") { filter.append(("path", path)) }
            let first = try client.call("GET", target(name, filter + [("limit", parsed.last("limit") ?? "50")]), as: Answer.self)
            first.rows.reversed().forEach(print)
            guard parsed.has("follow") else { return }
            var newest = first.rows.map(\.id).max() ?? 0
            var dropped = first.droppedLogRows
            while true {
                usleep(pollInterval)
                // Everything since the newest row printed, page by page (newest first), printed oldest first.
                var fresh: [AdminAccessRow] = []
                var before: Int64?
                repeat {
                    var query = filter + [("after", String(newest)), ("limit", "500")]
                    if let before { query.append(("before", String(before))) }
                    let page = try client.call("GET", target(name, query), as: Answer.self)
                    fresh += page.rows
                    before = page.next
                    if page.droppedLogRows > dropped {
                        Console.error("==> \(page.droppedLogRows - dropped) log rows were dropped: the relay's disk could not keep up.")
                        dropped = page.droppedLogRows
                    }
                } while before != nil
                fresh.reversed().forEach(print)
                newest = max(newest, fresh.map(\.id).max() ?? newest)
            }
        }
    }

    private static func target(_ name: String, _ query: [(String, String)]) -> String {
        let encoded = query.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
        return "/api/shares/\(name)/log?" + encoded.joined(separator: "&")
    }

    /// One line per request:
    /// `TIME CLIENT "METHOD PATH" STATUS BYTES MSms "USER AGENT" [refused: WHY] [aborted: SIDE]`.
    private static func print(_ row: AdminAccessRow) {
        // Text from the network reaches a terminal: control characters are shown escaped, never sent.
        let printable = TerminalText.escaped
        var line = "\(printable(row.time)) \(printable(row.client)) \"\(printable(row.method)) \(printable(row.path))\" "
            + "\(row.status) \(row.bytes) \(row.durationMs)ms"
        line += " \"\(printable(row.userAgent))\""
        if let refusal = row.refusal { line += " refused: \(printable(refusal))" }
        if let aborted = row.aborted { line += " aborted: \(printable(aborted))" }
        Console.out(line)
    }
}
