import Pairing
import Transport
import Wire

/// Why an end-to-end session could not be set up, worded for the user of that end.
public enum EndToEndError: Error, CustomStringConvertible {
    /// The other end used another connect code (or someone in the middle guessed one).
    case wrongCode
    /// The agent refuses connect sessions for now (too many wrong codes); its words.
    case refused(String)
    /// The data connection ended or broke before the session was up.
    case connection(String)
    /// The other end broke the pairing protocol.
    case protocolViolation(String)
    case timedOut(Double)
    case local(String)

    public var description: String {
        switch self {
        case .wrongCode: return "the connect code is wrong: check it with the sharer (it is printed by `vshare share`)"
        case .refused(let why): return "the share refused the connection: \(why)"
        case .connection(let why): return "the end-to-end connection failed: \(why)"
        case .protocolViolation(let why): return "the other end broke the pairing protocol: \(why)"
        case .timedOut(let seconds): return "the other end did not answer within \(Int(seconds)) s"
        case .local(let why): return why
        }
    }
}

/// Which end of an end-to-end session this is (see `DataPreamble.Side`).
public typealias EndToEndSide = DataPreamble.Side
