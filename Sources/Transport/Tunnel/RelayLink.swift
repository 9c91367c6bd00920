import Console
import Wire

/// A role's part of its connection to the relay; `RelayLink` does the rest.
public protocol RelayLinkDelegate: AnyObject {
    /// TLS is up and HELLO sent: send the role's request (`createShare`, `openSession`).
    func relayLinkDidConnect(_ link: RelayLink, tunnel: TunnelConnection)
    func relayLink(_ link: RelayLink, didReceive message: ControlMessage, on tunnel: TunnelConnection)
    /// The relay opened a stream: attach a handler or reset it.
    func relayLink(_ link: RelayLink, didOpen stream: UInt32, metadata: [UInt8], on tunnel: TunnelConnection)
    /// A datagram from the relay; the bytes are valid only during the call.
    func relayLink(_ link: RelayLink, didReceiveDatagram bytes: UnsafeRawBufferPointer, channel: UInt32)
    /// The connection is gone (or a dial failed): drop everything that rode on it.
    func relayLinkDidDisconnect(_ link: RelayLink)
    /// Not finishing: reconnect (`link.nextDelay` says when) or end, and what to tell the user.
    func relayLink(_ link: RelayLink, nextAfterLoss error: Error?) -> RelayLink.Next
    /// `finish` has printed its lines; the connection closes next.
    func relayLinkWillFinish(_ link: RelayLink)
}

public extension RelayLinkDelegate {
    func relayLink(_ link: RelayLink, didReceiveDatagram bytes: UnsafeRawBufferPointer, channel: UInt32) {}
    func relayLinkWillFinish(_ link: RelayLink) {}
}

/// One agent's connection to the relay across its whole life, shared by the share agent and the
/// connect client: dial (`RelayEndpoint`), HELLO, the role's request; on loss, reconnect with
/// `ReconnectBackoff` while the role says so (the role resumes with its own request); finish
/// with an exit status, flushing what is queued. Confined to its loop.
public final class RelayLink: TunnelConnectionDelegate {
    public enum Next {
        /// Print `notice` and dial again after the back-off.
        case reconnect(notice: String)
        case finish(status: Int32, notice: String? = nil, error: String? = nil)
    }

    public let loop: EventLoop
    public let endpoint: RelayEndpoint
    public weak var delegate: RelayLinkDelegate?
    /// The live connection, if any.
    public private(set) var tunnel: TunnelConnection?
    /// Set by `finish`: the process's exit status.
    public private(set) var exitStatus: Int32?
    private let role: HelloBody.Role
    private let mux: MuxConfig
    private let label: String
    private var backoff: ReconnectBackoff

    /// `label` prefixes the link's lines (`==> label: ...`).
    public init(endpoint: RelayEndpoint, role: HelloBody.Role, loop: EventLoop, mux: MuxConfig,
                backoff: ReconnectBackoff, label: String) {
        self.endpoint = endpoint
        self.role = role
        self.loop = loop
        self.mux = mux
        self.backoff = backoff
        self.label = label
    }

    /// Seconds until the next reconnect, for the role's notice.
    public var nextDelay: Int { Int(backoff.next) }

    /// Dials the relay (again).
    public func start() {
        guard exitStatus == nil else { return }
        do {
            tunnel = try endpoint.dial(on: loop, mux: mux, delegate: self)
        } catch {
            lost(error)
        }
    }

    /// The relay took the role's request: the next loss backs off from the start again.
    public func requestAccepted() {
        backoff.reset()
    }

    public func send(_ message: ControlMessage) {
        tunnel?.sendControl(message.encoded())
    }

    /// Ends the link once: prints `notice` / `error`, lets the role tear down, then closes the
    /// connection after what is queued has gone out (at most a second) and stops the loop.
    public func finish(_ status: Int32, notice: String? = nil, error: String? = nil) {
        guard exitStatus == nil else { return }
        exitStatus = status
        if let notice { Console.headline(label, notice) }
        if let error { Console.error("error: \(error)") }
        delegate?.relayLinkWillFinish(self)
        if let tunnel, tunnel.isOpen {
            tunnel.closeAfterFlushing()
            loop.schedule(after: 1) { [weak self] in self?.loop.stop() }
        } else {
            loop.stop()
        }
    }

    private func lost(_ error: Error?) {
        delegate?.relayLinkDidDisconnect(self)
        if exitStatus != nil { return loop.stop() }
        switch delegate?.relayLink(self, nextAfterLoss: error) ?? .finish(status: 1) {
        case .reconnect(let notice):
            Console.headline(label, notice)
            loop.schedule(after: backoff.take()) { [weak self] in self?.start() }
        case .finish(let status, let notice, let error):
            finish(status, notice: notice, error: error)
        }
    }

    // MARK: TunnelConnectionDelegate

    public func tunnelDidConnect(_ tunnel: TunnelConnection) {
        tunnel.sendHello(HelloBody(role: role))
        delegate?.relayLinkDidConnect(self, tunnel: tunnel)
    }

    public func tunnel(_ tunnel: TunnelConnection, didReceiveHello version: UInt16, body: HelloBody?) {
        if version != TunnelProtocol.version {
            finish(1, error: TunnelProtocol.relayVersionMismatch(version))
        }
    }

    /// A message this version does not understand is ignored: the relay follows a refusal with
    /// GOAWAY, so nothing waits on it.
    public func tunnel(_ tunnel: TunnelConnection, didReceiveControl payload: [UInt8]) {
        guard let message = try? ControlMessage.decode(payload) else { return }
        delegate?.relayLink(self, didReceive: message, on: tunnel)
    }

    public func tunnel(_ tunnel: TunnelConnection, didOpen stream: UInt32, metadata: [UInt8]) {
        guard let delegate else { return tunnel.reset(stream: stream, code: .refused, reason: "shutting down") }
        delegate.relayLink(self, didOpen: stream, metadata: metadata, on: tunnel)
    }

    public func tunnel(_ tunnel: TunnelConnection, didReceiveDatagram bytes: UnsafeRawBufferPointer, channel: UInt32) {
        delegate?.relayLink(self, didReceiveDatagram: bytes, channel: channel)
    }

    public func tunnelDidClose(_ tunnel: TunnelConnection, error: Error?) {
        guard self.tunnel === tunnel else { return }
        self.tunnel = nil
        lost(error)
    }
}
