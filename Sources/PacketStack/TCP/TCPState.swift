/// RFC 9293 §3.3.2 states. LISTEN is implicit (a SYN for a new flow creates the connection);
/// `synPending` is SYN seen, waiting for the shell's dial (no SYN-ACK sent yet).
enum TCPState: Equatable {
    case synPending, synReceived, established, finWait1, finWait2, closing, timeWait, closeWait, lastAck, closed

    /// States in which the peer's data is accepted.
    var receivesData: Bool { self == .established || self == .finWait1 || self == .finWait2 }
    /// States in which our data and FIN may go out (SYN acknowledged).
    var sends: Bool { self == .established || self == .closeWait || self == .finWait1 || self == .closing || self == .lastAck }
}
