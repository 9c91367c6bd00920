/// The payload of each `ControlMessage`. Field names are the wire's JSON keys (docs/PROTOCOL.md).
/// Fields a kind cannot do without are required, so a receiver never checks them by hand; a
/// message without them does not decode (`ControlMessageError.missingField`).

/// share → relay: create a share, or resume the named one after a reconnect.
public struct CreateShare: Equatable, Sendable {
    /// The name and secret of a share this agent had before it lost its connection.
    public struct Resume: Equatable, Sendable {
        public var name: String
        public var secret: String
        public init(name: String, secret: String) { self.name = name; self.secret = secret }
    }

    /// The relay's owner token (absent: the relay refuses with `unauthorized`).
    public var token: String?
    public var httpEnabled: Bool
    public var httpsEnabled: Bool
    public var resume: Resume?
    /// `--ssh`: the password-sealed key, kept by the relay with the share.
    public var ssh: SSHKeyBlob?
    /// Whether peers may join for end-to-end connect sessions (false with `--no-connect`).
    public var connect: Bool
    /// `--basic-auth`: the public URL asks for this user's password (absent: no password).
    public var basicAuth: BasicAuthVerifier?
    /// `--allow-ip`: only these client networks reach the public URLs (absent: every address).
    public var allowIP: [IPNetwork]?
    /// What the share shows (`10.0.0.5, http 80`), for the relay's history; never used to route.
    public var target: String?

    public init(token: String?, httpEnabled: Bool, httpsEnabled: Bool, resume: Resume? = nil, ssh: SSHKeyBlob? = nil,
                connect: Bool = true, basicAuth: BasicAuthVerifier? = nil, allowIP: [IPNetwork]? = nil, target: String? = nil) {
        self.token = token
        self.httpEnabled = httpEnabled
        self.httpsEnabled = httpsEnabled
        self.resume = resume
        self.ssh = ssh
        self.connect = connect
        self.basicAuth = basicAuth
        self.allowIP = allowIP
        self.target = target
    }
}

extension CreateShare: Codable {
    private enum CodingKeys: String, CodingKey { case token, httpEnabled, httpsEnabled, name, resumeSecret, ssh, connect, basicAuth, allowIP, target }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        token = try container.decodeIfPresent(String.self, forKey: .token)
        httpEnabled = try container.decodeIfPresent(Bool.self, forKey: .httpEnabled) ?? true
        httpsEnabled = try container.decodeIfPresent(Bool.self, forKey: .httpsEnabled) ?? false
        // A resume needs both halves; with one missing the agent gets a new share.
        if let name = try container.decodeIfPresent(String.self, forKey: .name),
           let secret = try container.decodeIfPresent(String.self, forKey: .resumeSecret) {
            resume = Resume(name: name, secret: secret)
        }
        ssh = try container.decodeIfPresent(SSHKeyBlob.self, forKey: .ssh)
        connect = try container.decodeIfPresent(Bool.self, forKey: .connect) ?? false
        basicAuth = try container.decodeIfPresent(BasicAuthVerifier.self, forKey: .basicAuth)
        target = try container.decodeIfPresent(String.self, forKey: .target)
        // CIDR text on the wire; one that does not parse makes the message a bad request.
        if let networks = try container.decodeIfPresent([String].self, forKey: .allowIP) {
            allowIP = try networks.map { text in
                do { return try IPNetwork(parsing: text) } catch {
                    throw DecodingError.dataCorruptedError(forKey: .allowIP, in: container, debugDescription: "\(error)")
                }
            }
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(token, forKey: .token)
        try container.encode(httpEnabled, forKey: .httpEnabled)
        try container.encode(httpsEnabled, forKey: .httpsEnabled)
        try container.encodeIfPresent(resume?.name, forKey: .name)
        try container.encodeIfPresent(resume?.secret, forKey: .resumeSecret)
        try container.encodeIfPresent(ssh, forKey: .ssh)
        try container.encode(connect, forKey: .connect)
        try container.encodeIfPresent(basicAuth, forKey: .basicAuth)
        try container.encodeIfPresent(allowIP?.map(\.description), forKey: .allowIP)
        try container.encodeIfPresent(target, forKey: .target)
    }
}

/// relay → share: the share is live.
public struct ShareCreated: Codable, Equatable, Sendable {
    public var name: String
    /// Presented with `createShare` after a reconnect to get the same share back.
    public var resumeSecret: String
    /// The public HTTP address (absent with `--disable-http`).
    public var url: String?
    /// The public HTTPS address (with `--https`).
    public var httpsAddress: String?
    /// Seconds until the share expires.
    public var expiresIn: Int

    public init(name: String, resumeSecret: String, url: String?, httpsAddress: String?, expiresIn: Int) {
        self.name = name
        self.resumeSecret = resumeSecret
        self.url = url
        self.httpsAddress = httpsAddress
        self.expiresIn = expiresIn
    }
}

/// Why a share is over. Also the GOAWAY reason that follows `shareEnded`.
public enum ShareEndReason: String, Codable, Sendable, CaseIterable {
    /// Its agent ended it (Ctrl-C).
    case ended
    /// Its time ran out.
    case expired
    /// Its agent did not come back within the relay's reconnect grace.
    case abandoned
    /// Someone pressed Expire now in the relay's web interface (or used its API).
    case expiredFromWeb
}

/// relay → share and connect: the share is over.
public struct ShareEnded: Codable, Equatable, Sendable {
    public var reason: ShareEndReason
    public init(reason: ShareEndReason) { self.reason = reason }
}

/// relay → agent: a request was refused.
public struct ControlError: Codable, Equatable, Sendable {
    public enum Code: String, Codable, Sendable, CaseIterable {
        case unauthorized, badRequest, unsupportedVersion
        /// No live share by that name (unknown, ended or expired: the relay never says which).
        case notFound
        /// Too many lookups of unknown names (or wrong SSH passwords) from this address.
        case tooManyRequests
        /// The share is live but its agent is away (reconnecting): a connect client retries.
        case agentUnavailable
        /// The share exists but was not started with `--ssh` (or its `--ssh-once` key was used).
        case noSSH
        /// The proof for the share's SSH key does not match: wrong password.
        case wrongPassword
        /// The share was started with `--no-connect`: its URL works, `vshare connect` does not.
        case connectOff
    }

    public var code: Code
    /// For the user: what happened and what to do.
    public var reason: String

    private enum CodingKeys: String, CodingKey {
        case code = "errorCode"
        case reason
    }

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }
}

/// connect → relay: join share `name` as a peer.
public struct OpenSession: Codable, Equatable, Sendable {
    public var name: String
    /// `connect --ssh`: only the share's SSH port, through the relay, with no end-to-end session
    /// (the SSH login is its own end-to-end protection).
    public var ssh: Bool?
    public init(name: String, ssh: Bool? = nil) { self.name = name; self.ssh = ssh }
}

/// relay → connect: joined.
public struct SessionOpened: Codable, Equatable, Sendable {
    public var name: String
    /// The relay's id for this peer of the share.
    public var session: UInt32
    /// Seconds until the share expires.
    public var expiresIn: Int
    /// Hex of the one-time ticket for this peer's data connection (`DataPreamble`); absent for an
    /// SSH-only session.
    public var ticket: String?
    public init(name: String, session: UInt32, expiresIn: Int, ticket: String? = nil) {
        self.name = name
        self.session = session
        self.expiresIn = expiresIn
        self.ticket = ticket
    }
}

/// relay → share: a peer joined; its data connection carries the same ticket.
public struct PeerJoined: Codable, Equatable, Sendable {
    /// The relay's id for the peer, unique per share (for the sharer's log).
    public var session: UInt32
    /// The peer's address as the relay saw it, for the sharer's log.
    public var client: String?
    /// Hex of the one-time ticket for the agent's side of the data connection.
    public var ticket: String
    public init(session: UInt32, client: String?, ticket: String) {
        self.session = session
        self.client = client
        self.ticket = ticket
    }
}

/// connect → relay (kind `sshParams`).
public struct SSHParamsRequest: Codable, Equatable, Sendable {
    public var name: String
    public init(name: String) { self.name = name }
}

/// relay → connect (kind `sshParams`): the salt and scrypt parameters of the share's SSH key.
public struct SSHParams: Codable, Equatable, Sendable {
    public var name: String
    public var kdf: SSHKDFParams
    private enum CodingKeys: String, CodingKey {
        case name
        case kdf = "sshKDF"
    }
    public init(name: String, kdf: SSHKDFParams) { self.name = name; self.kdf = kdf }
}

/// connect → relay (kind `sshKey`): base64 of the password-derived proof.
public struct SSHKeyRequest: Codable, Equatable, Sendable {
    public var name: String
    public var proof: String
    private enum CodingKeys: String, CodingKey {
        case name
        case proof = "sshProof"
    }
    public init(name: String, proof: String) { self.name = name; self.proof = proof }
}

/// relay → connect (kind `sshKey`): the sealed key, released for a matching proof.
public struct SSHKeyRelease: Codable, Equatable, Sendable {
    public var name: String
    public var sealed: SSHSealedKey
    private enum CodingKeys: String, CodingKey {
        case name
        case sealed = "sshSealed"
    }
    public init(name: String, sealed: SSHSealedKey) { self.name = name; self.sealed = sealed }
}
