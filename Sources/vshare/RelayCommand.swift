import Console
import Relay
import Transport
import Wire

enum RelayCommand {
    static let usage = """
    usage: vshare relay [options]
      --control ADDR:PORT   TLS port agents dial (default 0.0.0.0:7443)
      --http ADDR:PORT      public HTTP port (default 0.0.0.0:8080)
      --https ADDR:PORT     public HTTPS port, routed by SNI (default 0.0.0.0:8443)
      --domain DOMAIN       shares are NAME.DOMAIN (default share.localhost)
      --data-dir DIR        CA, certificate and owner token (default ~/.vshare/relay)
      --hostname NAME|IP    add a name to the relay certificate (repeatable)
      --cert FILE --key FILE  use this certificate instead of the relay's own CA
      --share-ttl DURATION  shares end after this long (default 8h; e.g. 30s, 10m, 8h)
      --stream-window SIZE  receive window of each public client's stream (default 256K): what
                            one client that stops reading can make the relay hold
      --memory-budget SIZE  bytes held for slow clients across the relay (default 256M); over it,
                            new requests are answered 503 until clients catch up
      --max-conns-per-ip N  open connections per client address to each public port and to the
                            control port (default 256); more are closed at once
      --join-timeout DURATION  time an agent or client has after HELLO to send its request (default 10s)
      --admin ADDR:PORT|off web interface and API (default 127.0.0.1:7444; HTTPS unless on loopback)
      --log-retention DURATION  access-log and audit rows are kept this long (default 30d)
      --store on|off        keep users, shares and logs in DATA_DIR/relay.db (default on)
      --http-timeouts STAGE=DURATION,...  public HTTP limits (defaults head=10s,idle=75s,body=30s,
                            response=60s,upgraded=10m: a head's arrival, between requests, between
                            body reads, until a response starts, an upgraded connection's silence)
      --drain DURATION      on SIGTERM, requests in flight get this long to finish (default 10s)
      --config FILE         settings from FILE, named like these options (`share-ttl = "8h"`);
                            options given here win over the file (docs/CONFIG.md)

    usage: vshare relay user add|list|remove|token [NAME] [--data-dir DIR]
      Users of the relay, in DIR/relay.db: `add` makes a user and prints their token (shown once),
      `token` gives a user a new token (the old one stops working), `remove` deletes a user (their
      shares stay in the history). The owner token (DIR/token) is the user `admin`.
    """

    /// The relay's options, which are also the settings a `--config` file may hold.
    static let settings: Set<String> = ["control", "http", "https", "domain", "data-dir", "hostname", "cert", "key", "share-ttl",
                                        "stream-window", "memory-budget", "max-conns-per-ip", "join-timeout", "log-retention", "admin", "store",
                                        "drain", "http-timeouts"]

    static func config(_ arguments: [String]) throws(ArgumentScanner.UsageError) -> RelayConfig {
        var scanner = ArgumentScanner(arguments)
        var parsed = try scanner.parse(flags: [], options: settings.union(["config"]))
        guard parsed.positionals.isEmpty else { throw .init("unexpected argument '\(parsed.positionals[0])'") }
        if let file = parsed.last("config") { try RelayConfigFile.apply(file, to: &parsed, settings: settings) }
        let ttlText = parsed.last("share-ttl") ?? "8h"
        guard let ttl = DurationSyntax.parse(ttlText) else {
            throw .init("--share-ttl '\(ttlText)' is not a duration: use a number with s, m, h or d, like 30s, 10m or 8h")
        }
        let cert = parsed.last("cert"), key = parsed.last("key")
        guard (cert == nil) == (key == nil) else { throw .init("--cert and --key go together") }
        var config = RelayConfig(
            control: try address(parsed.last("control") ?? "0.0.0.0:7443", "control"),
            http: try address(parsed.last("http") ?? "0.0.0.0:8080", "http"),
            https: try address(parsed.last("https") ?? "0.0.0.0:8443", "https"),
            domain: (parsed.last("domain") ?? "share.localhost").lowercased(),
            dataDir: parsed.last("data-dir") ?? Environment.defaultRelayDataDir,
            hostnames: parsed.all("hostname"),
            certificatePath: cert, keyPath: key, shareTTL: ttl)
        if let window = try parsed.streamWindow() { config.mux.initialWindow = window }
        try resourceLimits(parsed, into: &config)
        if let text = parsed.last("log-retention") {
            guard let seconds = DurationSyntax.parse(text), seconds > 0 else {
                throw .init("--log-retention '\(text)' is not a duration: use a number with s, m, h or d, like 30d")
            }
            config.logRetention = seconds
        }
        switch parsed.last("store") ?? "on" {
        case "on": config.storeEnabled = true
        case "off": config.storeEnabled = false
        case let other: throw .init("--store takes on or off, not '\(other)'")
        }
        if let text = parsed.last("drain") {
            guard let seconds = DurationSyntax.parse(text) else {
                throw .init("--drain '\(text)' is not a duration: use a number with s or m, like 10s")
            }
            config.drain = Double(seconds)
        }
        if let text = parsed.last("http-timeouts") {
            switch HTTPProxyTimeouts.parse(text) {
            case .success(let timeouts): config.httpTimeouts = timeouts
            case .failure(let error): throw .init("--http-timeouts: \(error)")
            }
        }
        let admin = parsed.last("admin") ?? "127.0.0.1:7444"
        config.admin = admin == "off" ? nil : try address(admin, "admin")
        if let us = try Environment.busyPollMicroseconds() { config.busyPollMicroseconds = us }
        return config
    }

    /// `--memory-budget`, `--max-conns-per-ip`, `--join-timeout`.
    private static func resourceLimits(_ parsed: ArgumentScanner.Parsed, into config: inout RelayConfig) throws(ArgumentScanner.UsageError) {
        if let text = parsed.last("memory-budget") {
            guard let size = ByteSizeSyntax.parse(text), size >= 1 << 20 else {
                throw .init("--memory-budget must be a size of at least 1M, like 256M, not '\(text)'")
            }
            config.memoryBudget = size
        }
        if let text = parsed.last("max-conns-per-ip") {
            guard let count = Int(text), count > 0 else {
                throw .init("--max-conns-per-ip must be a number of connections above 0, not '\(text)'")
            }
            config.maxConnectionsPerAddress = count
        }
        if let text = parsed.last("join-timeout") {
            guard let seconds = DurationSyntax.parse(text), seconds > 0 else {
                throw .init("--join-timeout '\(text)' is not a duration: use a number with s or m, like 10s")
            }
            config.joinTimeout = Double(seconds)
        }
    }

    static func address(_ text: String, _ option: String) throws(ArgumentScanner.UsageError) -> SocketAddress {
        do {
            return try SocketAddress(parsing: text)
        } catch {
            throw .init("--\(option): \(error)")
        }
    }

    static func run(_ arguments: [String]) -> Int32 {
        if arguments.first == "user" { return RelayUserCommand.run(Array(arguments.dropFirst()), usage: usage) }
        let config: RelayConfig
        do {
            config = try self.config(arguments)
        } catch {
            return CLI.usageError(error, usage)
        }
        do {
            let server = try RelayServer(config: config)
            server.reloadConfig = { () throws -> RelayConfig in try self.config(arguments) }
            try server.run()
        } catch {
            Console.error("error: \(error)")
            return 1
        }
    }
}
