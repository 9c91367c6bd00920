/// Which end of the tunnel connection a StreamMux is; decides the parity of the stream ids it opens.
public enum MuxRole: Sendable, Equatable {
    /// The side that dialed the connection; opens odd stream ids (1, 3, 5, ...).
    case dialer
    /// The side that accepted the connection; opens even stream ids (2, 4, 6, ...).
    case listener
}
