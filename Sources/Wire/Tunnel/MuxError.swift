/// Why a StreamMux gave up on its connection; every case ends the whole tunnel connection.
public enum MuxError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The byte stream could not be framed (see FrameError).
    case frame(FrameError)
    /// The peer broke a protocol rule; the connection cannot continue.
    case protocolViolation(String)
    /// The peer sent more DATA on a stream than the window we granted.
    case windowExceeded(stream: UInt32)

    public var description: String {
        switch self {
        case .frame(let e):
            "tunnel connection failed: \(e)"
        case .protocolViolation(let why):
            "tunnel peer violated the protocol: \(why); closing the connection (check that both sides run the same vshare version)"
        case .windowExceeded(let s):
            "tunnel peer sent more data on stream \(s) than its flow-control window allows; closing the connection"
        }
    }
}
