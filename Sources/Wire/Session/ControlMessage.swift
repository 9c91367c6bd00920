import Foundation

/// A CONTROL frame's body: one case per message, each with its own payload (`ControlPayloads.swift`).
/// On the wire it is one flat JSON object, `{"kind": K, ...the payload's fields}` (docs/PROTOCOL.md);
/// unknown fields are ignored, so a newer peer can add fields without breaking an older one.
///
/// Two kinds have one shape per direction, told apart by a field only the answer carries:
/// `sshParams` with `sshKDF` and `sshKey` with `sshSealed` are the relay's answers.
public enum ControlMessage: Equatable, Sendable {
    /// share → relay: create a share, or resume one after a reconnect.
    case createShare(CreateShare)
    /// relay → share: the share is live.
    case shareCreated(ShareCreated)
    /// share → relay: end my share now.
    case endShare
    /// relay → share and connect: the share is over; GOAWAY follows.
    case shareEnded(ShareEnded)
    /// relay → agent: a request was refused; GOAWAY follows.
    case error(ControlError)
    /// connect → relay: join a share as a peer.
    case openSession(OpenSession)
    /// relay → connect: joined; with a ticket, open the end-to-end data connection.
    case sessionOpened(SessionOpened)
    /// relay → share: a peer joined: open its end-to-end data connection with the ticket.
    case peerJoined(PeerJoined)
    /// connect → relay (kind `sshParams`): which KDF parameters does the share's SSH key use?
    case sshParamsRequest(SSHParamsRequest)
    /// relay → connect: the share's KDF parameters.
    case sshParams(SSHParams)
    /// connect → relay (kind `sshKey`): release the sealed key for this proof.
    case sshKeyRequest(SSHKeyRequest)
    /// relay → connect: the sealed key, for a matching proof.
    case sshKey(SSHKeyRelease)
    /// relay → share: the `--ssh-once` key was just released to a peer: the next SSH stream is
    /// that peer's login, after which the key leaves the machine.
    case sshKeyReleased
    /// connect → agent, end to end: this peer is leaving for good, so keep nothing for a resume.
    /// The agent answers nothing (the peer is closing).
    case leaving

    /// The `kind` strings of the wire.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case createShare, shareCreated, endShare, shareEnded, error, openSession, sessionOpened
        case peerJoined, sshParams, sshKey, sshKeyReleased, leaving
    }

    public var kind: Kind {
        switch self {
        case .createShare: return .createShare
        case .shareCreated: return .shareCreated
        case .endShare: return .endShare
        case .shareEnded: return .shareEnded
        case .error: return .error
        case .openSession: return .openSession
        case .sessionOpened: return .sessionOpened
        case .peerJoined: return .peerJoined
        case .sshParamsRequest, .sshParams: return .sshParams
        case .sshKeyRequest, .sshKey: return .sshKey
        case .sshKeyReleased: return .sshKeyReleased
        case .leaving: return .leaving
        }
    }

    /// Sorted keys: the same message always encodes to the same bytes.
    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? [UInt8](encoder.encode(self))) ?? []
    }

    public static func decode(_ bytes: [UInt8]) throws(ControlMessageError) -> ControlMessage {
        do {
            return try JSONDecoder().decode(ControlMessage.self, from: Data(bytes))
        } catch let error as ControlMessageError {
            throw error
        } catch let DecodingError.keyNotFound(key, _) {
            throw .missingField(key.stringValue)
        } catch let DecodingError.typeMismatch(_, context) where !context.codingPath.isEmpty {
            throw .badField(fieldPath(context))
        } catch let DecodingError.valueNotFound(_, context) where !context.codingPath.isEmpty {
            throw .badField(fieldPath(context))
        } catch let DecodingError.dataCorrupted(context) where !context.codingPath.isEmpty {
            throw .badField(fieldPath(context))
        } catch {
            throw .notJSON
        }
    }

    private static func fieldPath(_ context: DecodingError.Context) -> String {
        context.codingPath.map(\.stringValue).joined(separator: ".")
    }
}

/// Why a CONTROL payload is not a message this vshare understands.
public enum ControlMessageError: Error, Equatable, CustomStringConvertible {
    /// Not a JSON object.
    case notJSON
    /// A `kind` this version does not know (a newer peer's message).
    case unknownKind(String)
    /// A field the message's kind requires is absent.
    case missingField(String)
    /// A field has the wrong type or an unknown value.
    case badField(String)

    public var description: String {
        switch self {
        case .notJSON: return "the control message is not a JSON object"
        case .unknownKind(let kind): return "unknown control message kind '\(kind)' (is the peer a newer vshare?)"
        case .missingField(let field): return "the control message lacks its '\(field)' field"
        case .badField(let field): return "the control message's '\(field)' field has a wrong type or value"
        }
    }
}

extension ControlMessage: Codable {
    private enum KindKey: String, CodingKey { case kind }
    /// The fields that tell a kind's two directions apart.
    private enum AnswerKey: String, CodingKey { case sshKDF, sshSealed }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: KindKey.self)
        let text = try container.decode(String.self, forKey: .kind)
        guard let kind = Kind(rawValue: text) else { throw ControlMessageError.unknownKind(text) }
        let answer = try decoder.container(keyedBy: AnswerKey.self)
        switch kind {
        case .createShare: self = .createShare(try CreateShare(from: decoder))
        case .shareCreated: self = .shareCreated(try ShareCreated(from: decoder))
        case .endShare: self = .endShare
        case .shareEnded: self = .shareEnded(try ShareEnded(from: decoder))
        case .error: self = .error(try ControlError(from: decoder))
        case .openSession: self = .openSession(try OpenSession(from: decoder))
        case .sessionOpened: self = .sessionOpened(try SessionOpened(from: decoder))
        case .peerJoined: self = .peerJoined(try PeerJoined(from: decoder))
        case .sshParams:
            self = answer.contains(.sshKDF) ? .sshParams(try SSHParams(from: decoder))
                                            : .sshParamsRequest(try SSHParamsRequest(from: decoder))
        case .sshKey:
            self = answer.contains(.sshSealed) ? .sshKey(try SSHKeyRelease(from: decoder))
                                               : .sshKeyRequest(try SSHKeyRequest(from: decoder))
        case .sshKeyReleased: self = .sshKeyReleased
        case .leaving: self = .leaving
        }
    }

    /// The kind and the payload's fields go into one object (both containers are the same one).
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: KindKey.self)
        try container.encode(kind, forKey: .kind)
        switch self {
        case .createShare(let payload): try payload.encode(to: encoder)
        case .shareCreated(let payload): try payload.encode(to: encoder)
        case .shareEnded(let payload): try payload.encode(to: encoder)
        case .error(let payload): try payload.encode(to: encoder)
        case .openSession(let payload): try payload.encode(to: encoder)
        case .sessionOpened(let payload): try payload.encode(to: encoder)
        case .peerJoined(let payload): try payload.encode(to: encoder)
        case .sshParamsRequest(let payload): try payload.encode(to: encoder)
        case .sshParams(let payload): try payload.encode(to: encoder)
        case .sshKeyRequest(let payload): try payload.encode(to: encoder)
        case .sshKey(let payload): try payload.encode(to: encoder)
        case .endShare, .sshKeyReleased, .leaving: break
        }
    }
}
