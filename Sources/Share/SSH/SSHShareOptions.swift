/// `vshare share --ssh`: how to reach the machine's sshd, and how the agent gets in to insert the key.
public struct SSHShareOptions: Sendable {
    public var port: UInt16 = 22
    public var user = "vagrant"
    /// `--ssh-once`: the relay releases the key once; the agent removes it from the machine once the
    /// first SSH session has started.
    public var once = false
    /// The agent's own way in (`--ssh-identity`), used with the system `ssh`.
    public var identity: String
    /// Asks for the new key's password (twice on a terminal); called once, after "Generating new SSH key...".
    public var password: @Sendable () throws -> [UInt8]
    /// `--ssh-once`: how long after the first SSH stream connected the key is removed (if that
    /// stream has not ended earlier).
    public var onceRemovalDelay: Double = 10

    public init(identity: String, password: @escaping @Sendable () throws -> [UInt8]) {
        self.identity = identity
        self.password = password
    }
}
