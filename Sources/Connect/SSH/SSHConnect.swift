import Console
import Foundation
import Glibc
import SSHKeys
import Transport
import Wire

/// `vshare connect --ssh NAME [-- ssh arguments]`: fetches the share's KDF parameters, asks for the
/// password, proves it to the relay, decrypts the sealed key in memory, hands it to a private
/// ssh-agent through a pipe, pins the machine's host key (from the sealed record) in a temp
/// known_hosts, and runs the system `ssh` with `vshare connect NAME --stdio` as its ProxyCommand.
/// The exit status is ssh's.
public struct SSHConnectConfig: Sendable {
    public var connect: ConnectConfig
    /// This vshare binary, for the ProxyCommand.
    public var executable: String
    /// Arguments after `--`, passed to ssh after the destination (a remote command).
    public var sshArguments: [String]
    public var password: @Sendable () throws -> [UInt8]

    public init(connect: ConnectConfig, executable: String, sshArguments: [String],
                password: @escaping @Sendable () throws -> [UInt8]) {
        self.connect = connect
        self.executable = executable
        self.sshArguments = sshArguments
        self.password = password
    }
}

public enum SSHConnectError: Error, CustomStringConvertible {
    case relay(String)
    case refused(String)
    case local(String)

    public var description: String {
        switch self {
        case .relay(let why), .refused(let why), .local(let why): return why
        }
    }
}

public enum SSHConnect {
    static let label = "connect"

    public static func run(_ config: SSHConnectConfig) -> Int32 {
        TerminationSignals.block()   // before any thread: ssh gets Ctrl-C, we clean up
        do {
            return try session(config)
        } catch {
            Console.error("error: \(error)")
            return 1
        }
    }

    private static func session(_ config: SSHConnectConfig) throws -> Int32 {
        let name = config.connect.name
        Console.headline(label, "Loading share '\(name)'...")
        let ask = ControlMessage.sshParamsRequest(SSHParamsRequest(name: name))
        let kdf = try expect(RelayExchange.ask(ask, relay: config.connect.relay, relayCA: config.connect.relayCA,
                                               mux: config.connect.mux)) { answer in
            if case .sshParams(let params) = answer { return params.kdf } else { return nil }
        }
        if let why = KDFFloor.refusal(kdf) { throw SSHConnectError.refused(why) }
        var password = try config.password()
        guard !password.isEmpty else { throw SSHConnectError.local("an empty password cannot be right; ssh was not run") }
        var keys = try PasswordSealing.derive(password: password, params: kdf)
        Secret.wipe(&password)
        defer { keys.wipe() }
        let request = ControlMessage.sshKeyRequest(SSHKeyRequest(name: name, proof: Data(try keys.proof()).base64EncodedString()))
        let sealed = try expect(RelayExchange.ask(request, relay: config.connect.relay, relayCA: config.connect.relayCA,
                                                  mux: config.connect.mux)) { answer in
            if case .sshKey(let release) = answer { return release.sealed } else { return nil }
        }
        var plain: [UInt8]
        do {
            plain = try PasswordSealing.open(sealed, keys: keys)
        } catch {
            throw SSHConnectError.refused("the key from the relay does not decrypt with this password (\(error)); ssh was not run")
        }
        guard var record = SSHKeyRecord.decode(plain) else {
            Secret.wipe(&plain)
            throw SSHConnectError.refused("the decrypted key record is malformed; ssh was not run")
        }
        Secret.wipe(&plain)
        defer { Secret.wipe(&record.privateKey) }
        guard !record.hostKeys.isEmpty else { throw SSHConnectError.refused("the share carries no host key to verify the machine; ssh was not run") }

        let directory = try PrivateDirectory(prefix: "vshare-ssh")
        defer { directory.remove() }
        let alias = "vshare-\(name)"
        try directory.write("known_hosts", record.hostKeys.map { "\(alias) \($0)" }.joined(separator: "\n") + "\n")
        let agent = try PrivateSSHAgent(directory: directory)
        defer { agent.stop() }
        try agent.add(privateKey: record.privateKey)
        Secret.wipe(&record.privateKey)
        let listed = try ChildProcess.run("ssh-add", ["-L"], environment: ["SSH_AUTH_SOCK": agent.socketPath])
        guard listed.ok, !listed.output.isEmpty else { throw SSHConnectError.local("the private ssh-agent lost the key: \(listed.errorSummary)") }
        try directory.write("key.pub", listed.output)

        var arguments = [
            "-o", "ProxyCommand=\(proxyCommand(config))",
            "-o", "HostKeyAlias=\(alias)",
            "-o", "UserKnownHostsFile=\(directory.path)/known_hosts",
            "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "StrictHostKeyChecking=yes",
            "-o", "CheckHostIP=no",
            "-o", "UpdateHostKeys=no",
            "-o", "IdentityAgent=\(agent.socketPath)",
            "-o", "IdentityFile=\(directory.path)/key.pub",
            "-o", "IdentitiesOnly=yes",
            "-o", "PasswordAuthentication=no",
            "-o", "KbdInteractiveAuthentication=no",
            "-o", "ControlMaster=no", "-o", "ControlPath=none",
            "-p", String(record.port), "-l", record.user, alias,
        ]
        arguments += config.sshArguments
        Console.headline(label, "Executing SSH...")
        return try runSSH(arguments)
    }

    /// The part of the relay's answer `wanted` picks out, or the relay's refusal as an error.
    private static func expect<Answer>(_ result: Result<ControlMessage, SSHConnectError>,
                                       _ wanted: (ControlMessage) -> Answer?) throws(SSHConnectError) -> Answer {
        let message = try result.get()
        if let answer = wanted(message) { return answer }
        guard case .error(let refusal) = message else {
            throw .refused("the relay answered with an unexpected \(message.kind.rawValue) message")
        }
        let reason = TerminalText.sanitized(refusal.reason)
        switch refusal.code {
        case .notFound: throw .refused("\(reason). Ask the sharer for the current name.")
        case .noSSH: throw .refused("\(reason). Ask the sharer to run `vshare share --ssh`.")
        case .wrongPassword: throw .refused("\(reason): ssh was not run. Check the password with the sharer and try again.")
        default: throw .refused(reason)
        }
    }

    /// `'vshare' connect 'NAME' --relay 'R' [--relay-ca 'CA'] --stdio`, quoted for
    /// the shell ssh runs it with, `%` doubled for ssh's own token expansion.
    static func proxyCommand(_ config: SSHConnectConfig) -> String {
        func quote(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        var words = [quote(config.executable), "connect", quote(config.connect.name),
                     "--relay", quote(config.connect.relay)]
        if let ca = config.connect.relayCA {
            let absolute = ca.hasPrefix("/") ? ca : FileManager.default.currentDirectoryPath + "/" + ca
            words += ["--relay-ca", quote(absolute)]
        }
        words += ["--stream-window", String(config.connect.mux.initialWindow), "--stdio"]
        return words.joined(separator: " ").replacingOccurrences(of: "%", with: "%%")
    }

    /// Runs ssh on our terminal and waits. Ctrl-C reaches ssh from the terminal itself (we ignore
    /// it, as system() does); SIGTERM is passed on to ssh, so we always get to clean up.
    private static func runSSH(_ arguments: [String]) throws -> Int32 {
        let ssh = try Spawned.start(try ChildProcess.locate("ssh"), arguments)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        var timeout = timespec(tv_sec: 0, tv_nsec: 200_000_000)
        while true {
            if let status = ssh.poll() { return status }
            let signal = sigtimedwait(&set, nil, &timeout)
            if signal == SIGTERM { ssh.signal(SIGTERM) }
        }
    }
}
