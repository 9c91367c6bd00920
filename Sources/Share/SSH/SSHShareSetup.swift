import Console
import Foundation
import SSHKeys
import Transport
import Wire

/// `vshare share --ssh`: a new Ed25519 key per share, its public half appended to the machine's
/// authorized_keys (through the agent's own SSH access), its private half sealed with the sharer's
/// password together with the machine's host keys, user and port. Only the sealed blob leaves this
/// process. When the share ends the key is removed from the machine again.
final class SSHShareSetup: @unchecked Sendable {
    let options: SSHShareOptions
    let machine: MachineSSH
    let comment: String
    private let directory: PrivateDirectory
    private let label: String
    private var publicLine = ""
    private let lock = NSLock()
    /// Held for each change to the machine's authorized_keys, so that setting the expiry and the
    /// removal never run at once (a late expiry update must not put a removed key back).
    private let machineLock = NSLock()
    private var inserted = false
    private var removed = false
    private var onceArmed = false
    /// `--ssh-once`: the relay released the key to a peer; only SSH streams after that count.
    private var onceReleased = false
    private(set) var blob: SSHKeyBlob?

    init(options: SSHShareOptions, target: String, label: String) throws {
        self.options = options
        self.label = label
        directory = try PrivateDirectory(prefix: "vshare-share-ssh")
        machine = MachineSSH(user: options.user, host: target, port: options.port, identity: options.identity,
                             directory: directory.path)
        let suffix = (try Secret.random(8)).map { String(format: "%02x", $0) }.joined()
        let safeLabel = String(label.filter { $0.isLetter || $0.isNumber || $0 == "-" }.prefix(32))
        comment = "vshare-share-\(safeLabel.isEmpty ? "machine" : safeLabel)-\(suffix)"
    }

    /// Generates the key, asks for the password, inserts the public key, seals the rest.
    func prepare() throws {
        Console.headline(label, "SSH Port: \(options.port)")
        Console.headline(label, "Generating new SSH key...")
        var key = try Ed25519Key.generate()
        defer { key.wipe() }
        publicLine = OpenSSHKeyFormat.authorizedKeyLine(publicKey: key.publicKey, comment: comment)
        var password = try options.password()
        defer { Secret.wipe(&password) }
        Console.headline(label, "Inserting generated SSH key into machine...")
        lock.withLock { inserted = true }   // from here on, the end of the share removes it
        let hostKeys = try machine.insert(restrictedLine(expiresIn: Self.provisionalLifetime))
        let checkInt = try Secret.random(4).bigEndianUInt32(at: 0)
        var privateKey = OpenSSHKeyFormat.privateKey(seed: key.seed, publicKey: key.publicKey, comment: comment, checkInt: checkInt)
        defer { Secret.wipe(&privateKey) }
        var record = SSHKeyRecord(privateKey: privateKey, hostKeys: hostKeys, user: options.user, port: options.port).encoded()
        defer { Secret.wipe(&record) }
        blob = try PasswordSealing.seal(record, password: password, once: options.once)
        pendingKey = privateKey
    }

    /// How long the key works until the relay has said when the share ends (`setExpiryInBackground`): if the
    /// agent dies before that, the key expires on its own soon.
    static let provisionalLifetime = 15 * 60

    /// The key's authorized_keys line: restricted, and refused by sshd `expiresIn` seconds from now.
    private func restrictedLine(expiresIn: Int) -> String {
        OpenSSHKeyFormat.restrictedKeyOptions(expiry: time(nil) + expiresIn) + " " + publicLine
    }

    /// The relay created the share, ending in `expiresIn` seconds: the key expires with it (a
    /// minute later, for clocks that differ a little). On a background thread, like the removal.
    func setExpiryInBackground(expiresIn: Int) {
        let line = restrictedLine(expiresIn: expiresIn + 60)
        Thread.detachNewThread { [self] in
            machineLock.withLock {
                guard lock.withLock({ inserted && !removed }) else { return }
                do {
                    try machine.replace(comment: comment, with: line)
                } catch {
                    Console.error("warning: \(error)")
                }
            }
        }
    }

    /// Kept from `prepare()` to `check()` only.
    private var pendingKey: [UInt8] = []

    /// "Checking authentication and authorization...": logs in once with the new key, held by a
    /// private ssh-agent (the key reaches it through a pipe, never a file).
    func check() throws {
        defer { Secret.wipe(&pendingKey); pendingKey = [] }
        let agent = try PrivateSSHAgent(directory: directory)
        defer { agent.stop() }
        try agent.add(privateKey: pendingKey, lifetime: 60)
        try directory.write("share_key.pub", publicLine + "\n")
        let result = try machine.run("true", identityFile: directory.path + "/share_key.pub", agentSocket: agent.socketPath)
        guard result.ok else { throw SSHShareError.check(result.errorSummary) }
    }

    /// `--ssh-once`: the first SSH stream of a peer session has connected. The key goes after
    /// `onceRemovalDelay` seconds, or when that stream ends, whichever is first (an authenticated
    /// session survives the removal). Returns false when already armed.
    func armOnce() -> Bool {
        lock.withLock {
            guard options.once, onceReleased, !onceArmed else { return false }
            onceArmed = true
            return true
        }
    }

    /// The relay says the one-time key was released: the next SSH stream is that peer's login
    /// (before this, a peer reaching port 22 some other way, e.g. through SOCKS, arms nothing).
    func markReleased() {
        lock.withLock { onceReleased = true }
    }

    /// Removes the key on a background thread (the event loop keeps serving the session).
    func removeInBackground() {
        Thread.detachNewThread { [self] in removeKey() }
    }

    /// Removes the key from the machine once; safe to call from any thread, any number of times.
    func removeKey() {
        let needed: Bool = lock.withLock {
            guard inserted, !removed else { return false }
            removed = true
            return true
        }
        guard needed else { return }
        Console.headline(label, "Removing the share's SSH key from the machine...")
        machineLock.withLock {
            do {
                try machine.remove(comment: comment)
            } catch {
                Console.error("error: \(error)")
            }
        }
    }

    func cleanUp() {
        removeKey()
        directory.remove()
    }
}
