import Console
import Transport
import Wire

/// The end-to-end session's events (the relay's control connection is `RelayLinkDelegate`'s).
extension ConnectClient: TunnelConnectionDelegate {
    public func tunnelDidConnect(_ tunnel: TunnelConnection) {
        tunnel.sendHello(HelloBody(role: .connect, machineAddress: machineAddressText, resume: resumeID))
    }

    public func tunnel(_ tunnel: TunnelConnection, didReceiveHello version: UInt16, body: HelloBody?) {
        guard tunnel === session else { return }
        guard version == TunnelProtocol.version, body?.role == .share else {
            return lostSession("the share speaks protocol \(version), this vshare \(TunnelProtocol.version): use matching versions")
        }
        resumeID = body?.resume
        sessionReady(tunnel, resumed: body?.resumed == true)
    }

    public func tunnel(_ tunnel: TunnelConnection, didReceiveControl payload: [UInt8]) {
        if case .error(let refusal)? = try? ControlMessage.decode(payload) { lostSession(TerminalText.sanitized(refusal.reason)) }
    }

    /// The share opens nothing toward this host.
    public func tunnel(_ tunnel: TunnelConnection, didOpen stream: UInt32, metadata: [UInt8]) {
        tunnel.reset(stream: stream, code: .refused, reason: "connect peers accept no streams")
    }

    public func tunnel(_ tunnel: TunnelConnection, didReceiveDatagram bytes: UnsafeRawBufferPointer, channel: UInt32) {
        guard tunnel === session else { return }
        sessionDelivered(bytes)
    }

    public func tunnelDidClose(_ tunnel: TunnelConnection, error: Error?) {
        guard tunnel === session else { return }
        lostSession(error.map { "\($0)" } ?? "the share closed it")
    }
}
