import Console
import Foundation
import Glibc
import Transport
import Wire

/// `vshare connect NAME --stdio` (hidden; ssh's ProxyCommand): joins the share as an SSH-only peer
/// (no ticket, no TUN or SOCKS), opens one `ssh` stream — the agent dials its machine's SSH port —
/// and joins it to standard input and output. Exits when either side ends. Standard output carries only the
/// stream's bytes: every message goes to standard error.
public final class StdioPipe: TunnelConnectionDelegate, @unchecked Sendable {
    private let config: ConnectConfig
    private let loop: EventLoop
    private var tunnel: TunnelConnection?
    private var bridge: StreamSocketBridge?
    private var exitStatus: Int32?

    public init(config: ConnectConfig) throws(ConnectError) {
        self.config = config
        do {
            loop = try EventLoop(name: "stdio")
        } catch {
            throw ConnectError.system(error)
        }
    }

    public func run() -> Int32 {
        TerminationSignals.block()
        do {
            let relay = try RelayEndpoint(config.relay, caPath: config.relayCA)
            let signals = try TerminationSignals(loop: loop) { [unowned self] _ in self.finish(0) }
            tunnel = try relay.dial(on: loop, mux: config.mux, delegate: self)
            loop.run()
            _ = signals
        } catch {
            return fail("cannot connect to the relay at \(config.relay): \(error)")
        }
        return exitStatus ?? 0
    }

    private func fail(_ why: String) -> Int32 {
        Console.error("vshare: \(why)")
        return 1
    }

    private func finish(_ status: Int32, error: String? = nil) {
        guard exitStatus == nil else { return }
        exitStatus = status
        if let error { Console.error("vshare: \(error)") }
        tunnel?.close()
        loop.stop()
    }

    public func tunnelDidConnect(_ tunnel: TunnelConnection) {
        tunnel.sendHello(HelloBody(role: .connect))
        let open = OpenSession(name: config.name, ssh: true)
        tunnel.sendControl(ControlMessage.openSession(open).encoded())
    }

    public func tunnel(_ tunnel: TunnelConnection, didReceiveHello version: UInt16, body: HelloBody?) {
        if version != TunnelProtocol.version {
            finish(1, error: TunnelProtocol.relayVersionMismatch(version))
        }
    }

    public func tunnel(_ tunnel: TunnelConnection, didReceiveControl payload: [UInt8]) {
        switch try? ControlMessage.decode(payload) {
        case .sessionOpened?: openStream(tunnel)
        case .shareEnded?: finish(1, error: "the share \(config.name) has ended")
        case .error(let refusal)?: finish(1, error: refusal.reason)
        default: break
        }
    }

    /// A socket pair stands in for stdin/stdout: the bridge owns one end on the loop, and two
    /// threads copy between the other end and file descriptors 0 and 1 (pipes from ssh).
    private func openStream(_ tunnel: TunnelConnection) {
        guard bridge == nil else { return }
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0 else {
            return finish(1, error: "socketpair failed: \(String(cString: strerror(errno)))")
        }
        let flags = fcntl(pair[0], F_GETFL)
        _ = fcntl(pair[0], F_SETFL, flags | O_NONBLOCK)
        guard let stream = tunnel.open(metadata: OpenRequest(service: .ssh).encoded(), handler: nil) else {
            return finish(1, error: "the relay takes no more streams")
        }
        let bridge = StreamSocketBridge(tunnel: tunnel, stream: stream, socket: Socket(adopting: pair[0]), connecting: false)
        bridge.targetDescription = "the machine's SSH server"
        // The stream is over; the output thread still drains the socket pair into stdout, then ends us.
        bridge.onClose = { [weak self] in
            self?.loop.schedule(after: 5) { [weak self] in self?.finish(0) }
        }
        self.bridge = bridge
        do {
            try bridge.start()
        } catch {
            return finish(1, error: "\(error)")
        }
        let local = pair[1]
        Thread.detachNewThread { StdioPipe.copy(from: 0, to: local, thenShutdown: true) }
        Thread.detachNewThread { [loop] in
            StdioPipe.copy(from: local, to: 1, thenShutdown: false)
            close(1)
            loop.execute { [weak self] in self?.finish(0) }
        }
    }

    private static func copy(from source: Int32, to destination: Int32, thenShutdown: Bool) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        loop: while true {
            let n = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            var offset = 0
            while offset < n {
                let w = buffer.withUnsafeBytes { write(destination, $0.baseAddress! + offset, n - offset) }
                if w < 0 && errno == EINTR { continue }
                if w <= 0 { break loop }
                offset += w
            }
        }
        if thenShutdown { shutdown(destination, Int32(SHUT_WR)) }
    }

    public func tunnel(_ tunnel: TunnelConnection, didOpen stream: UInt32, metadata: [UInt8]) {
        tunnel.reset(stream: stream, code: .refused, reason: "connect clients accept no streams")
    }

    public func tunnel(_ tunnel: TunnelConnection, didReceiveDatagram bytes: UnsafeRawBufferPointer, channel: UInt32) {}

    public func tunnelDidClose(_ tunnel: TunnelConnection, error: Error?) {
        finish(exitStatus ?? 1, error: exitStatus == nil ? "lost the connection to the relay\(error.map { ": \($0)" } ?? "")" : nil)
    }
}
