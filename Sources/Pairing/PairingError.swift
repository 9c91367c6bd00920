/// What can go wrong while two sides pair over a connect code. Descriptions are written for the
/// person who typed the code.
public enum PairingError: Error, Equatable, CustomStringConvertible {
    /// The peer's confirmation did not verify: it used a different connect code (or someone in the
    /// middle guessed one). The one outcome a user can fix.
    case codeMismatch
    /// The peer's share is not an uncompressed P-256 point on the curve, or is the point at infinity,
    /// or leads to a degenerate shared point.
    case invalidShare(String)
    /// The peer's confirmation has the wrong length.
    case malformedConfirmation(count: Int)
    /// A given w is not a scalar in [1, order): the caller's bug, not the peer's.
    case invalidPassword(String)
    /// The state machine was driven out of order (e.g. `finish` before `receive`), or after it failed.
    case outOfOrder(String)
    /// libcrypto failed (allocation, randomness); the text is OpenSSL's error queue.
    case openSSL(call: String, detail: String)

    public var description: String {
        switch self {
        case .codeMismatch:
            return "the connect code did not match: check the code and try again"
        case .invalidShare(let why):
            return "the peer sent an invalid pairing message (\(why)); pairing aborted"
        case .malformedConfirmation(let count):
            return "the peer sent a \(count)-byte confirmation where 32 bytes were expected; pairing aborted"
        case .invalidPassword(let why):
            return "the pairing secret w is unusable (\(why))"
        case .outOfOrder(let what):
            return "pairing steps called out of order: \(what)"
        case .openSSL(let call, let detail):
            return "\(call) failed: \(detail)"
        }
    }
}
