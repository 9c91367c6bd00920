import Foundation
import SSHKeys
import Transport

/// The agent's own SSH access to the machine it shares: the system `ssh` with `--ssh-identity`, in
/// batch mode. Its known_hosts is private (a 0700 temp directory) with `StrictHostKeyChecking=accept-new`:
/// the agent runs next to the machine it manages and trusts its first connection to it, as Vagrant
/// does; the host key recorded there is what it then pins for connect clients.
struct MachineSSH: Sendable {
    let user: String
    let host: String
    let port: UInt16
    let identity: String
    let directory: String

    var knownHostsPath: String { directory + "/machine_known_hosts" }

    func options(identityFile: String, agentSocket: String?) -> [String] {
        var options = ["-p", String(port), "-l", user,
                       "-o", "IdentityFile=\(identityFile)", "-o", "IdentitiesOnly=yes",
                       "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR",
                       "-o", "StrictHostKeyChecking=accept-new", "-o", "HashKnownHosts=no",
                       "-o", "UserKnownHostsFile=\(knownHostsPath)", "-o", "GlobalKnownHostsFile=/dev/null",
                       "-o", "PasswordAuthentication=no", "-o", "KbdInteractiveAuthentication=no",
                       "-o", "ControlMaster=no", "-o", "ControlPath=none", "-o", "ForwardAgent=no",
                       "-o", "PermitLocalCommand=no"]
        options += ["-o", "IdentityAgent=\(agentSocket ?? "none")"]
        return options
    }

    func run(_ command: String, input: [UInt8]? = nil, identityFile: String? = nil, agentSocket: String? = nil) throws -> ChildProcess.Result {
        try ChildProcess.run("ssh", options(identityFile: identityFile ?? identity, agentSocket: agentSocket) + ["--", host, command],
                             input: input)
    }

    static let hostKeysMarker = "---vshare-host-keys---"

    /// Appends `line` to the user's authorized_keys (directory 0700 and file 0600 when created; a
    /// missing final newline is added first) and returns the machine's host public keys: those its
    /// sshd presented to us (recorded in our private known_hosts) and /etc/ssh/ssh_host_*_key.pub.
    func insert(_ line: String) throws -> [String] {
        let script = """
        umask 077 && mkdir -p ~/.ssh && F=~/.ssh/authorized_keys && touch "$F" && \
        { if [ -s "$F" ] && [ -n "$(tail -c1 "$F")" ]; then echo >> "$F"; fi; } && cat >> "$F" && \
        echo \(Self.hostKeysMarker) && { cat /etc/ssh/ssh_host_*_key.pub 2>/dev/null; true; }
        """
        let result = try run(script, input: Array((line + "\n").utf8))
        guard result.ok, let marker = result.output.range(of: Self.hostKeysMarker) else {
            throw SSHShareError.insert("\(user)@\(host) port \(port)", result.errorSummary)
        }
        var keys: [String] = []
        let recorded = (try? String(contentsOfFile: knownHostsPath, encoding: .utf8)) ?? ""
        for entry in recorded.split(separator: "\n") {
            // `HOST TYPE BASE64`: this private file only ever holds the machine's keys.
            let fields = entry.split(separator: " ", maxSplits: 1)
            if fields.count == 2, let key = OpenSSHKeyFormat.hostKey(fromLine: String(fields[1])) { keys.append(key) }
        }
        for entry in result.output[marker.upperBound...].split(separator: "\n") {
            if let key = OpenSSHKeyFormat.hostKey(fromLine: String(entry)), !keys.contains(key) { keys.append(key) }
        }
        guard !keys.isEmpty else { throw SSHShareError.noHostKeys }
        return keys
    }

    /// Removes every authorized_keys line carrying `comment` (unique per share: `vshare-share-…-<hex>`).
    /// Idempotent; the file is replaced only by a complete copy (see `rewriteScript`).
    func remove(comment: String) throws {
        let result = try run(Self.rewriteScript(comment: comment, replacing: false))
        guard result.ok else { throw SSHShareError.remove("\(user)@\(host) port \(port)", result.errorSummary) }
    }

    /// Puts `line` in place of the lines carrying `comment`, if any are still there (a key already
    /// removed is never put back).
    func replace(comment: String, with line: String) throws {
        let result = try run(Self.rewriteScript(comment: comment, replacing: true), input: Array((line + "\n").utf8))
        guard result.ok else { throw SSHShareError.update("\(user)@\(host) port \(port)", result.errorSummary) }
    }

    /// The shell script (run by the machine's `sh`) that drops the lines carrying `comment` from
    /// authorized_keys and, when `replacing`, appends the line read from standard input. The new
    /// file is written beside the old one, checked to hold every kept line, given the old one's
    /// mode, fsynced, and only then renamed over it: a failed step (disk full, a read error, a
    /// killed ssh) leaves the original as it was and no temp file behind — a truncated
    /// authorized_keys would lock the machine's owner out.
    static func rewriteScript(comment: String, replacing: Bool) -> String {
        precondition(comment.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
        let append = replacing ? """
        cat >> "$T" || fail "cannot write $T"; [ "$(wc -l < "$T")" -eq $((keep + 1)) ] || fail "the new line did not arrive whole"
        """ : ":"
        return """
        umask 077; F="$HOME/.ssh/authorized_keys"; [ -f "$F" ] || exit 0
        grep -q -F -- '\(comment)' "$F" || exit 0
        fail() { echo "$1; $F is unchanged" >&2; exit 1; }
        T="$F.vshare-$$"; trap 'rm -f "$T"' EXIT
        keep=$(grep -c -v -F -- '\(comment)' "$F"); [ $? -le 1 ] || fail "cannot read $F"
        { grep -v -F -- '\(comment)' "$F"; [ $? -le 1 ]; } > "$T" || fail "cannot write $T"
        [ "$(wc -l < "$T")" -eq "$keep" ] || fail "the copy of $F came out short"
        \(append)
        chmod --reference="$F" "$T" || fail "cannot set the mode of $T"
        sync "$T" || fail "cannot sync $T"
        mv -f "$T" "$F" || fail "cannot rename $T"
        sync "${F%/*}" 2>/dev/null; exit 0
        """
    }
}

public enum SSHShareError: Error, CustomStringConvertible {
    case insert(String, String)
    case remove(String, String)
    case update(String, String)
    case noHostKeys
    case check(String)
    case password(String)

    public var description: String {
        switch self {
        case .insert(let where_, let why):
            return "cannot insert the SSH key into the machine (\(where_)): \(why). Check --ssh-identity (the agent's own key into the machine), --ssh-user and --ssh-port."
        case .remove(let where_, let why):
            return "could not remove the share's SSH key from the machine (\(where_)): \(why). Remove the line ending in this share's vshare-share-… comment from ~/.ssh/authorized_keys by hand."
        case .update(let where_, let why):
            return "could not set the share's SSH key to expire with the share (\(where_)): \(why). The key stays until the share ends and removes it."
        case .noHostKeys:
            return "the machine's SSH host keys could not be read, so connect clients could not verify it; check that its sshd has host keys in /etc/ssh"
        case .check(let why):
            return "the inserted SSH key does not work: \(why). Check the machine's sshd (AuthorizedKeysFile, StrictModes, home directory permissions)."
        case .password(let why): return why
        }
    }
}
