import Console
import Relay
import Wire

/// `vshare shares` and `vshare expire NAME`: the relay's web API from the command line
/// (`vshare logs` is LogsCommand, on the same `run`).
enum AdminCommands {
    static let sharesUsage = """
    usage: vshare shares [--admin URL] [--token-file FILE]
      List the relay's live shares.
      --admin URL         the relay's web interface (default http://127.0.0.1:7444)
      --token-file FILE   a file holding your token on the relay (env VSHARE_TOKEN; default
                          ~/.vshare/relay/token; --token TOKEN works too, with a warning)
    """

    static let expireUsage = """
    usage: vshare expire NAME [--admin URL] [--token-file FILE]
      End a live share now: its URL answers 404 and its agent exits.
      --admin URL         the relay's web interface (default http://127.0.0.1:7444)
      --token-file FILE   a file holding your token on the relay (env VSHARE_TOKEN; default
                          ~/.vshare/relay/token; --token TOKEN works too, with a warning)
    """

    private struct SharesAnswer: Decodable { var shares: [AdminShare] }
    private struct ExpiredAnswer: Decodable { var expired: String }

    static func shares(_ arguments: [String]) -> Int32 {
        run(arguments, positionals: 0, usage: sharesUsage) { client, _, _ throws(AdminClient.Failure) in
            let shares = try client.call("GET", "/api/shares", as: SharesAnswer.self).shares
            if shares.isEmpty { Console.out("No live shares."); return }
            for share in shares {
                let address = share.url ?? share.httpsAddress ?? "-"
                let state = share.agentConnected ? "" : " (agent reconnecting)"
                Console.out("\(share.name)  \(address)  expires in \(DurationSyntax.format(seconds: share.expiresIn))  owner \(share.owner)  \(share.options.joined(separator: ","))\(state)")
            }
        }
    }

    static func expire(_ arguments: [String]) -> Int32 {
        run(arguments, positionals: 1, usage: expireUsage) { client, names, _ throws(AdminClient.Failure) in
            // `via=cli`: the history says the share was expired from the command line.
            let name = try client.call("POST", "/api/shares/\(names[0])/expire?via=cli", as: ExpiredAnswer.self).expired
            Console.out("Expired share \(name).")
        }
    }

    /// Parses the common options (`--admin`, `--token-file`/`--token`) and `extraFlags`/`extraOptions`, finds the
    /// token, and runs `body` with a client, the positionals and the parsed arguments.
    static func run(_ arguments: [String], positionals: Int, usage: String, extraFlags: Set<String> = [],
                    extraOptions: Set<String> = [],
                    _ body: (AdminClient, [String], ArgumentScanner.Parsed) throws(AdminClient.Failure) -> Void) -> Int32 {
        var scanner = ArgumentScanner(arguments)
        let parsed: ArgumentScanner.Parsed
        do {
            parsed = try scanner.parse(flags: extraFlags, options: extraOptions.union(["admin", "token", "token-file"]))
            guard parsed.positionals.count == positionals else {
                throw ArgumentScanner.UsageError(positionals == 0 ? "unexpected argument '\(parsed.positionals[0])'" : "name one share")
            }
        } catch {
            return CLI.usageError(error, usage)
        }
        let token: String?
        do {
            token = try Environment.token(parsed, defaultFile: Environment.defaultRelayDataDir + "/token")
        } catch {
            return CLI.usageError(error, usage)
        }
        guard let token else {
            Console.error("error: no token. Pass your token on the relay with --token-file FILE or VSHARE_TOKEN (the owner token is in the relay's data directory, DIR/token).")
            return 2
        }
        do {
            let client = try AdminClient(url: parsed.last("admin") ?? "http://127.0.0.1:7444", token: token)
            try body(client, parsed.positionals, parsed)
            return 0
        } catch {
            Console.error("error: \(error)")
            return 1
        }
    }
}
