import Connect
import Console
import Foundation
import Pairing
import Transport
import Wire

enum ConnectCommand {
    static let usage = """
    usage: vshare connect NAME [options]
      Gives this host the shared machine, end to end: a static IP that reaches its TCP and UDP ports (all,
      or those the sharer chose)
      (a virtual interface; needs root or CAP_NET_ADMIN) and a SOCKS5 proxy (no privileges).
      The share's connect code (printed by `vshare share`, like 417-acorn-zesty-mango) is asked for
      without echo on a terminal, else read from the first line of standard input.
      --code CODE         the connect code (env VSHARE_CODE); other users can see it in `ps`,
                          so prefer the prompt or the environment
      --relay HOST:PORT   the relay's control port (env VSHARE_RELAY; default 127.0.0.1:7443)
      --relay-ca FILE     CA that signed the relay's certificate (env VSHARE_RELAY_CA;
                          default ~/.vshare/relay/ca.pem when present, else the system trust store)
      --ip ADDR           the machine IP (default 172.16.0.2; the next free one in its /24 if taken)
      --socks ADDR:PORT   the SOCKS5 address (default 127.0.0.1:0, a free port)
      --no-tun            no virtual interface: SOCKS only
      --pcap FILE         write every tunneled packet to FILE (pcap, readable by tcpdump -r)
      --ssh               log into the machine with the system ssh, using the share's SSH key
                          (asks for the sharer's password; no virtual interface, no privileges).
                          Arguments after -- go to ssh after the destination, e.g.
                          vshare connect --ssh NAME -- uptime
    """

    static func config(_ arguments: [String]) throws(ArgumentScanner.UsageError) -> ConnectConfig {
        var scanner = ArgumentScanner(arguments)
        let parsed = try scanner.parse(flags: ["no-tun", "ssh", "stdio"],
                                     options: ["relay", "relay-ca", "ip", "socks", "pcap", "stream-window", "code"])
        guard let name = parsed.positionals.first else { throw .init("which share? Pass its name: vshare connect NAME") }
        guard parsed.positionals.count == 1 else { throw .init("unexpected argument '\(parsed.positionals[1])'") }
        let defaultCA = Environment.defaultRelayDataDir + "/ca.pem"
        let relayCA = parsed.last("relay-ca") ?? Environment.value("VSHARE_RELAY_CA")
            ?? (Environment.fileExists(defaultCA) ? defaultCA : nil)
        if let relayCA, !Environment.fileExists(relayCA) {
            throw .init("the relay CA file \(relayCA) does not exist")
        }
        let socks: SocketAddress
        do {
            socks = try SocketAddress(parsing: parsed.last("socks") ?? "127.0.0.1:0", defaultHost: "127.0.0.1")
        } catch {
            throw .init("bad --socks: \(error)")
        }
        var config = ConnectConfig(relay: parsed.last("relay") ?? Environment.value("VSHARE_RELAY") ?? "127.0.0.1:7443",
                                   relayCA: relayCA, name: name.lowercased(), socks: socks)
        if let ip = parsed.last("ip") {
            guard let address = IPv4Address(ip) else { throw .init("bad --ip '\(ip)': expected an IPv4 address such as 172.16.0.2") }
            config.machineAddress = address
        }
        config.useTun = !parsed.has("no-tun")
        config.pcapPath = parsed.last("pcap")
        if let window = try parsed.streamWindow() { config.mux.initialWindow = window }
        if let us = try Environment.busyPollMicroseconds() { config.busyPollMicroseconds = us }
        return config
    }

    /// `--code`, else `VSHARE_CODE`, else (not for `--ssh` and its `--stdio` child, which log in with
    /// the key's password) the prompt; normalized. nil: no code given.
    static func connectCode(_ parsed: ArgumentScanner.Parsed) throws -> String? {
        let typed: String?
        if let given = parsed.last("code") ?? Environment.value("VSHARE_CODE") {
            typed = given
        } else if parsed.has("ssh") || parsed.has("stdio") {
            typed = nil
        } else {
            typed = try PasswordPrompt.connectCode()
        }
        return try typed.map(ConnectCode.normalize)
    }

    static func run(_ arguments: [String]) -> Int32 {
        var config: ConnectConfig
        let parsed: ArgumentScanner.Parsed
        do {
            config = try self.config(arguments)
            var scanner = ArgumentScanner(arguments)
            parsed = try scanner.parse(flags: ["no-tun", "ssh", "stdio"],
                                       options: ["relay", "relay-ca", "ip", "socks", "pcap", "stream-window", "code"])
            if !parsed.passthrough.isEmpty && !parsed.has("ssh") { throw ArgumentScanner.UsageError("arguments after -- are for ssh: add --ssh") }
        } catch {
            return CLI.usageError(error, usage)
        }
        do {
            config.code = try connectCode(parsed)
        } catch {
            Console.error("error: \(error)")
            return 1
        }
        if parsed.has("stdio") {
            // Hidden: ssh's ProxyCommand for `connect --ssh`.
            do {
                return try StdioPipe(config: config).run()
            } catch {
                Console.error("vshare: \(error)")
                return 1
            }
        }
        if parsed.has("ssh") {
            let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
            return SSHConnect.run(SSHConnectConfig(connect: config, executable: executable, sshArguments: parsed.passthrough) {
                try PasswordPrompt.ask("Password for the private key:")
            })
        }
        do {
            return try ConnectClient(config: config).run()
        } catch {
            Console.error("error: \(error)")
            return 1
        }
    }
}
