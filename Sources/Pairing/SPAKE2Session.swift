import CInterop
import Wire

/// One side of a SPAKE2 exchange (RFC 9382, SPAKE2-P256-SHA256-HKDF-HMAC), sans I/O: the caller
/// carries the bytes. Both sides call, in order:
///
///     let share = session.start()                                // send to the peer
///     let confirmation = try session.receive(peerShare: theirs)  // send to the peer
///     let key = try session.finish(peerConfirmation: theirs)     // Ke, 16 bytes
///
/// A is the side whose share is X = x·P + w·M, B the side with Y = y·P + w·N; they must agree on
/// who is which and on both identities. A session is single-use: any error ends it, and its own copies
/// of the secrets (w, the scalar, K, Ke, Ka and the confirmation keys) are wiped when it finishes, fails
/// or is released. The caller's `SPAKE2Password` is a plain value: it holds w until the caller drops it.
public final class SPAKE2Session {
    public enum Role: Sendable { case a, b }

    private enum Step {
        case created
        case started
        case received(SPAKE2KeySchedule)
        case finished
        case failed
    }

    public let role: Role
    private let identityA: [UInt8]
    private let identityB: [UInt8]
    private let aad: [UInt8]
    private let curve: P256
    private var w: Scalar?
    private var wBytes: [UInt8]
    /// x for A, y for B.
    private var scalar: Scalar?
    private let share: [UInt8]
    private var step = Step.created

    /// `identity` is this side's, `peerIdentity` the other's (either may be empty, as in RFC 9382's
    /// vectors). `aad` is bound into the confirmation keys only (RFC 9382 §4); both sides must pass
    /// the same bytes.
    public convenience init(role: Role, identity: [UInt8], peerIdentity: [UInt8], password: SPAKE2Password,
                            aad: [UInt8] = []) throws(PairingError) {
        let curve = try P256()
        try self.init(role: role, identity: identity, peerIdentity: peerIdentity, password: password, aad: aad,
                      curve: curve, scalar: try curve.randomScalar())
    }

    /// With a chosen scalar: only for RFC 9382's test vectors, which fix x and y.
    convenience init(role: Role, identity: [UInt8], peerIdentity: [UInt8], password: SPAKE2Password,
                     scalar: [UInt8]) throws(PairingError) {
        let curve = try P256()
        try self.init(role: role, identity: identity, peerIdentity: peerIdentity, password: password, aad: [],
                      curve: curve, scalar: try curve.scalar(bigEndian: scalar))
    }

    private init(role: Role, identity: [UInt8], peerIdentity: [UInt8], password: SPAKE2Password, aad: [UInt8],
                 curve: P256, scalar: Scalar) throws(PairingError) {
        self.role = role
        (identityA, identityB) = role == .a ? (identity, peerIdentity) : (peerIdentity, identity)
        self.aad = aad
        self.curve = curve
        let w = try curve.scalar(bigEndian: password.bytes)
        self.w = w
        wBytes = password.bytes.map { $0 }  // our own buffer, wiped in place
        self.scalar = scalar
        // X = x·P + w·M (A) or Y = y·P + w·N (B).
        let blind = try curve.multiply(role == .a ? curve.m : curve.n, by: w)
        share = curve.encode(try curve.add(try curve.multiplyGenerator(by: scalar), blind))
    }

    deinit { wipeSecrets() }

    /// This side's share (pA or pB, an uncompressed point) to send to the peer.
    public func start() -> [UInt8] {
        if case .created = step { step = .started }
        return share
    }

    /// Takes the peer's share and returns this side's confirmation MAC (cA or cB) to send back.
    /// Throws `invalidShare` for anything but a valid P-256 point other than infinity.
    public func receive(peerShare: [UInt8]) throws(PairingError) -> [UInt8] {
        guard case .started = step else { throw fail(.outOfOrder("receive(peerShare:) needs start() first, once")) }
        guard let w, let scalar else { throw fail(.outOfOrder("the session's secrets are gone")) }
        do throws(PairingError) {
            let peerPoint = try curve.peerPoint(peerShare)
            // K = h·x·(Y − w·N) for A, h·y·(X − w·M) for B; h = 1 on P-256.
            let unblind = try curve.multiply(role == .a ? curve.n : curve.m, by: w)
            let sharedPoint = try curve.multiply(try curve.subtract(peerPoint, unblind), by: scalar)
            // Only a peer that sent exactly w·N (or w·M) lands here, which needs knowing w.
            guard !curve.isInfinity(sharedPoint) else {
                throw PairingError.invalidShare("it makes the shared point infinity")
            }
            let (shareA, shareB) = role == .a ? (share, peerShare) : (peerShare, share)
            let schedule = try SPAKE2KeySchedule(identityA: identityA, identityB: identityB, shareA: shareA,
                                                 shareB: shareB, sharedPoint: curve.encode(sharedPoint),
                                                 w: wBytes, aad: aad)
            step = .received(schedule)
            dropScalars()
            return role == .a ? schedule.confirmationA : schedule.confirmationB
        } catch {
            throw fail(error)
        }
    }

    /// Verifies the peer's confirmation MAC (constant-time) and returns the shared key Ke.
    /// Throws `codeMismatch` when the peer used another code.
    public func finish(peerConfirmation: [UInt8]) throws(PairingError) -> [UInt8] {
        guard case .received(let schedule) = step else {
            throw fail(.outOfOrder("finish(peerConfirmation:) needs receive(peerShare:) first, once"))
        }
        guard peerConfirmation.count == 32 else { throw fail(.malformedConfirmation(count: peerConfirmation.count)) }
        let expected = role == .a ? schedule.confirmationB : schedule.confirmationA
        guard constantTimeEqual(peerConfirmation, expected) else { throw fail(.codeMismatch) }
        // A fresh buffer, so wiping the schedule's Ke below overwrites the original, not a copy.
        let key = schedule.ke.map { $0 }
        wipeSecrets()
        step = .finished
        return key
    }

    /// The key schedule between `receive` and `finish`, for the test vectors' intermediate values.
    var keySchedule: SPAKE2KeySchedule? {
        if case .received(let schedule) = step { return schedule }
        return nil
    }

    private func fail(_ error: PairingError) -> PairingError {
        step = .failed
        wipeSecrets()
        return error
    }

    private func dropScalars() {
        w = nil
        scalar = nil
        wipeSecret(&wBytes)
    }

    private func wipeSecrets() {
        dropScalars()
        if case .received(let schedule) = step {
            step = .failed
            schedule.wipe()
        }
    }
}
