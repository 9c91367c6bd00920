import Foundation

/// The JSON body of a HELLO frame: who is speaking. The protocol version travels in the frame itself.
public struct HelloBody: Codable, Equatable, Sendable {
    public enum Role: String, Codable, Sendable { case relay, share, connect }
    public var role: Role
    public var software: String
    /// The sender's per-stream receive window in bytes: the peer's initial send credit per stream.
    public var window: UInt32?

    public init(role: Role, software: String = "vshare/\(VShareVersion.string)", window: UInt32? = nil) {
        self.role = role
        self.software = software
        self.window = window
    }

    /// Windows a peer may announce: below 64 KiB a stream crawls, above 1 GiB memory is at risk.
    public static let windowRange: ClosedRange<UInt32> = (64 << 10)...(1 << 30)
}

public enum VShareVersion {
    public static let string = "0.1.0"
}

/// A CONTROL frame's JSON body. One flat shape with a `kind` and the fields that kind uses,
/// so a newer peer can add fields without breaking an older one.
public struct ControlMessage: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable {
        /// share → relay: create a share (token), or resume one after a reconnect (name + resumeSecret).
        case createShare
        /// relay → share: the share is live.
        case shareCreated
        /// share → relay: end my share now.
        case endShare
        /// relay → share: the share is over (`reason`: "expired" or "ended").
        case shareEnded
        /// relay → agent: a request failed; `errorCode` says which way.
        case error
        /// connect → relay: join the share `name` as a peer, with `machineAddress` as the machine's IP.
        case openSession
        /// relay → connect: joined (`name`, `session`, `expiresIn`, `features`);
        /// relay → share: a peer joined (`session`, `client`, `machineAddress`): start its packet stack.
        case sessionOpened
        /// relay → share: the peer of `session` left: drop its packet stack and flows.
        case sessionClosed
        /// connect → relay: `name`; relay → connect: `sshKDF` (salt and scrypt parameters) of the share's SSH key.
        case sshParams
        /// connect → relay: `name`, `sshProof`; relay → connect: `sshSealed` (the encrypted key) when the proof matches.
        case sshKey
        /// relay → share: the `--ssh-once` key was just released to a peer: the next SSH stream
        /// is that peer's login, after which the key leaves the machine.
        case sshKeyReleased
    }

    public var kind: Kind
    public var token: String?
    public var name: String?
    public var resumeSecret: String?
    public var httpEnabled: Bool?
    public var httpsEnabled: Bool?
    public var url: String?
    public var httpsAddress: String?
    public var expiresIn: Int?
    public var reason: String?
    public var errorCode: ErrorCode?
    /// Connect sessions: the relay's id for one peer of a share, unique per share; also the
    /// DATAGRAM channel that carries the session's packets between relay and share agent.
    public var session: UInt32?
    /// Connect sessions: the peer's address (for the sharer's log).
    public var client: String?
    /// Connect sessions: the IP the peer gave the shared machine (the packet stack answers for it).
    public var machineAddress: String?
    /// SSH sharing (`createShare` with `--ssh`): the password-sealed key, kept by the relay with the share.
    public var ssh: SSHKeyBlob?
    /// SSH sharing: the KDF parameters a client needs to derive its proof (`sshParams` answer).
    public var sshKDF: SSHKDFParams?
    /// SSH sharing: base64 of the client's password-derived verifier (`sshKey` request).
    public var sshProof: String?
    /// SSH sharing: the sealed key, released for a matching proof (`sshKey` answer).
    public var sshSealed: SSHSealedKey?

    public enum ErrorCode: String, Codable, Sendable {
        case unauthorized, badRequest, unsupportedVersion
        /// No live share by that name (unknown, ended or expired: the relay never says which).
        case notFound
        /// Too many lookups of unknown names from this address.
        case tooManyRequests
        /// The share is live but its agent is away (reconnecting): a connect client retries.
        case agentUnavailable
        /// The share exists but was not started with `--ssh` (or its `--ssh-once` key was used).
        case noSSH
        /// The proof for the share's SSH key does not match: wrong password.
        case wrongPassword
    }

    public init(kind: Kind) { self.kind = kind }

    public static func error(_ code: ErrorCode, _ reason: String) -> ControlMessage {
        var message = ControlMessage(kind: .error)
        message.errorCode = code
        message.reason = reason
        return message
    }

    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? [UInt8](encoder.encode(self))) ?? []
    }

    public static func decode(_ bytes: [UInt8]) -> ControlMessage? {
        try? JSONDecoder().decode(ControlMessage.self, from: Data(bytes))
    }
}

/// An OPEN frame's JSON body: which service of the shared machine the new stream is for.
/// The share agent maps services to its own configured ports; it never takes an address from the peer.
public struct OpenRequest: Codable, Equatable, Sendable {
    public enum Service: String, Codable, Sendable { case http, https, tcp }
    public var service: Service
    /// Only for `.tcp`: the port on the shared machine.
    public var port: UInt16?
    /// The original client, for logs and X-Forwarded-For.
    public var client: String?
    /// Relay → share, for streams of a connect session (SOCKS CONNECT): which session.
    public var session: UInt32?
    /// The opener wants to hear when the far end is dialed (`MuxEvent.connected`) before it
    /// answers its own client (a SOCKS CONNECT reply), so a refused port is reported as refused.
    public var confirm: Bool?

    public init(service: Service, port: UInt16? = nil, client: String? = nil, session: UInt32? = nil,
                confirm: Bool? = nil) {
        self.service = service
        self.port = port
        self.client = client
        self.session = session
        self.confirm = confirm
    }

    public func encoded() -> [UInt8] { (try? [UInt8](JSONEncoder().encode(self))) ?? [] }

    public static func decode(_ bytes: [UInt8]) -> OpenRequest? {
        try? JSONDecoder().decode(OpenRequest.self, from: Data(bytes))
    }
}

public extension HelloBody {
    func encoded() -> [UInt8] { (try? [UInt8](JSONEncoder().encode(self))) ?? [] }
    static func decode(_ bytes: [UInt8]) -> HelloBody? { try? JSONDecoder().decode(HelloBody.self, from: Data(bytes)) }
}
