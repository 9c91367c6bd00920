import Wire

/// How a side ends a connection it will not serve (the relay an agent's or a connect client's
/// control connection, a share agent a peer's session): it says why (an `error` message the peer
/// prints), then GOAWAY after flushing.
extension TunnelConnection {
    public func refuse(_ code: ControlError.Code, _ reason: String) {
        sendControl(ControlMessage.error(ControlError(code, reason)).encoded())
        goaway(code: 1, reason: reason)
    }

    /// The peer's control message; nil after refusing the connection with what was malformed.
    public func decodeControlOrRefuse(_ payload: [UInt8]) -> ControlMessage? {
        do {
            return try ControlMessage.decode(payload)
        } catch {
            refuse(.badRequest, "malformed control message: \(error)")
            return nil
        }
    }
}
