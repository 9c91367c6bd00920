import Console
import Share
import Transport
import Wire

enum ShareCommand {
    static let usage = """
    usage: vshare share [options]
      --relay HOST:PORT   the relay's control port (env VSHARE_RELAY; default 127.0.0.1:7443)
      --relay-ca FILE     CA that signed the relay's certificate (env VSHARE_RELAY_CA;
                          default ~/.vshare/relay/ca.pem when present, else the system trust store)
      --token-file FILE   a file holding your token on the relay (env VSHARE_TOKEN; default
                          ~/.vshare/relay/token). --token TOKEN works too, but other local users
                          can read a command line
      --target HOST       the shared machine's address (default 127.0.0.1)
      --http PORT         its HTTP port (default 80)
      --https PORT        its HTTPS port (optional; routed by SNI, never decrypted)
      --disable-http      no public URL (peers still reach the machine with `vshare connect NAME`)
      --all-ports         connect reaches every port, even when the target is this host (by default
                          a target on this host opens only the shared ports: HTTP, HTTPS, SSH)
      --ports LIST        connect reaches exactly these ports, comma-separated: --ports 22,5432
      --no-connect        no `vshare connect` at all (the public URL still works)
      --stream-window SIZE  per-stream receive window (default 4M): at least bandwidth × round trip
      --ssh               also share SSH: a new key per share, inserted into the machine, its private
                          half sealed with a password you choose (peers: vshare connect --ssh NAME)
      --ssh-port N        the machine's SSH port (default 22)
      --ssh-user USER     the SSH user on the machine (default vagrant)
      --ssh-once          the key works for one login only (implies --ssh)
      --ssh-identity FILE the agent's own key into the machine, to insert the share's key
                          (default ~/.vagrant.d/insecure_private_key)
      --metrics ADDR:PORT serve Prometheus metrics at http://ADDR:PORT/metrics (keep it on loopback)
    """ + "\n" + accessUsage

    static func config(_ arguments: [String]) throws(ArgumentScanner.UsageError) -> ShareConfig {
        var scanner = ArgumentScanner(arguments)
        let parsed = try scanner.parse(flags: ["disable-http", "ssh", "ssh-once", "all-ports", "no-connect"],
                                     options: ["relay", "relay-ca", "token", "token-file", "target", "http", "https", "stream-window",
                                               "ssh-port", "ssh-user", "ssh-identity", "ports",
                                               "basic-auth", "allow-ip", "metrics"])
        guard parsed.positionals.isEmpty else { throw .init("unexpected argument '\(parsed.positionals[0])'") }
        let defaultDir = Environment.defaultRelayDataDir
        let defaultCA = defaultDir + "/ca.pem"
        let relayCA = parsed.last("relay-ca") ?? Environment.value("VSHARE_RELAY_CA")
            ?? (Environment.fileExists(defaultCA) ? defaultCA : nil)
        if let relayCA, !Environment.fileExists(relayCA) {
            throw .init("the relay CA file \(relayCA) does not exist")
        }
        let token = try Environment.token(parsed, defaultFile: defaultDir + "/token")
        var config = ShareConfig(
            relay: parsed.last("relay") ?? Environment.value("VSHARE_RELAY") ?? "127.0.0.1:7443",
            relayCA: relayCA,
            token: token,
            target: parsed.last("target") ?? "127.0.0.1",
            httpPort: try parsed.port("http") ?? 80,
            httpsPort: try parsed.port("https"),
            disableHTTP: parsed.has("disable-http"))
        if let window = try parsed.streamWindow() { config.mux.initialWindow = window }
        if let us = try Environment.busyPollMicroseconds() { config.busyPollMicroseconds = us }
        config.ssh = try sshOptions(parsed)
        config.connectPorts = try connectPorts(parsed)
        config.basicAuth = try basicAuth(parsed)
        config.allowIP = try allowIP(parsed)
        config.metrics = try parsed.last("metrics").map { text throws(ArgumentScanner.UsageError) in try RelayCommand.address(text, "metrics") }
        return config
    }

    /// `--all-ports`, `--ports LIST` or `--no-connect` (one of them at most); `.automatic` without.
    /// `connect --ssh` does not go through a connect session (the relay passes its `ssh` streams to the
    /// SSH port), so none of these limits it.
    static func connectPorts(_ parsed: ArgumentScanner.Parsed) throws(ArgumentScanner.UsageError) -> ConnectPorts {
        let lists = parsed.all("ports")
        let chosen = ["all-ports", "no-connect"].filter(parsed.has) + (lists.isEmpty ? [] : ["ports"])
        if chosen.count > 1 {
            throw .init("--\(chosen[0]) and --\(chosen[1]) both say which ports connect reaches: pass only one of them")
        }
        if parsed.has("all-ports") { return .all }
        if parsed.has("no-connect") { return .off }
        guard !lists.isEmpty else { return .automatic }
        return .only(try portList(lists.joined(separator: ",")))
    }

    /// `22,5432`: port numbers from 1 to 65535 separated by commas, in order, each once.
    static func portList(_ text: String) throws(ArgumentScanner.UsageError) -> [UInt16] {
        var ports: [UInt16] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let entry = item.trimmingASCIIWhitespace()
            guard let port = UInt16(entry), port > 0 else {
                let what = entry.isEmpty ? "an empty entry" : "'\(entry)'"
                throw .init("--ports '\(text)' has \(what), not a port number from 1 to 65535: separate ports with commas, like --ports 22,5432")
            }
            if !ports.contains(port) { ports.append(port) }
        }
        return ports
    }

    static func sshOptions(_ parsed: ArgumentScanner.Parsed) throws(ArgumentScanner.UsageError) -> SSHShareOptions? {
        let sshOnly = ["ssh-port", "ssh-user", "ssh-identity"].filter { parsed.last($0) != nil }
        guard parsed.has("ssh") || parsed.has("ssh-once") else {
            if let option = sshOnly.first { throw .init("--\(option) needs --ssh") }
            return nil
        }
        let identity = parsed.last("ssh-identity") ?? Environment.home + "/.vagrant.d/insecure_private_key"
        guard Environment.fileExists(identity) else {
            throw .init("the SSH identity \(identity) does not exist: pass the key the agent uses to log into the machine with --ssh-identity FILE")
        }
        var options = SSHShareOptions(identity: identity) { try PasswordPrompt.newPassword() }
        options.port = try parsed.port("ssh-port") ?? 22
        if let user = parsed.last("ssh-user") {
            guard !user.isEmpty, !user.hasPrefix("-"), user.allSatisfy({ $0.isLetter || $0.isNumber || "._-".contains($0) }) else {
                throw .init("--ssh-user '\(user)' is not a user name")
            }
            options.user = user
        }
        options.once = parsed.has("ssh-once")
        return options
    }

    static func run(_ arguments: [String]) -> Int32 {
        let config: ShareConfig
        do {
            config = try self.config(arguments)
        } catch {
            return CLI.usageError(error, usage)
        }
        if config.token == nil {
            Console.error("error: no owner token. Pass the relay's token with --token-file FILE or VSHARE_TOKEN (it is in the relay's data directory, DIR/token).")
            return 1
        }
        do {
            return try ShareAgent(config: config).run()
        } catch {
            Console.error("error: \(error)")
            return 1
        }
    }
}
