import Pairing

/// What both ends of a share's connect sessions derive from the connect code, once per share:
/// SPAKE2's w (scrypt, ≈0.1 s, so it is not paid per session) and the two identities, which name
/// the share so that one code gives unrelated secrets for different shares.
public struct PairingCredentials: Sendable {
    public let shareName: String
    let identityPeer: [UInt8]
    let identityAgent: [UInt8]
    let password: SPAKE2Password

    /// `code` must already be normalized (`ConnectCode.normalize`): both ends hash the same bytes.
    public init(code: String, shareName: String) throws(PairingError) {
        self.shareName = shareName
        identityPeer = Array("vshare peer \(shareName)".utf8)
        identityAgent = Array("vshare agent \(shareName)".utf8)
        password = try SPAKE2Password.derive(code: code, identityA: identityPeer, identityB: identityAgent)
    }

    /// A fresh single-use SPAKE2 run for one data connection; the ticket is bound into the
    /// confirmations, so a transcript cannot be replayed into another session.
    func session(side: EndToEndSide, ticket: [UInt8]) throws(PairingError) -> SPAKE2Session {
        switch side {
        case .peer:
            return try SPAKE2Session(role: .a, identity: identityPeer, peerIdentity: identityAgent,
                                     password: password, aad: ticket)
        case .agent:
            return try SPAKE2Session(role: .b, identity: identityAgent, peerIdentity: identityPeer,
                                     password: password, aad: ticket)
        }
    }
}
