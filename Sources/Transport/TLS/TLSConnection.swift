import Synchronization
import CShims
import COpenSSL
import Glibc

public protocol TLSConnectionDelegate: AnyObject {
    func tlsDidHandshake(_ connection: TLSConnection)
    func tls(_ connection: TLSConnection, didReceive bytes: UnsafeRawBufferPointer)
    /// The queue of bytes waiting to be encrypted fell below `lowWater`: more may be written.
    func tlsDidDrain(_ connection: TLSConnection)
    /// The connection is gone (peer closed, error, or `close()`); called once.
    func tlsDidClose(_ connection: TLSConnection, error: Error?)
}

/// TLS over a non-blocking socket, driven by its event loop: reads until OpenSSL wants more,
/// queues writes and flushes them as the socket allows. Confined to `loop`.
public final class TLSConnection: IOHandler {
    public private(set) var loop: EventLoop
    public let socket: Socket
    public let peerAddress: SocketAddress?
    public weak var delegate: TLSConnectionDelegate?
    public static let lowWater = 256 * 1024

    private var ssl: OpaquePointer?
    private var state: State = .connecting
    private var outbound = ByteQueue()
    private var readBuffer: UnsafeMutableRawBufferPointer
    private var handshakeTimer: UInt64?
    private var wantsWriteForRead = false
    private var closeWhenFlushed = false
    /// Made with a pre-shared key: a handshake that did not use it (a certificate instead) fails.
    private let requiresPSK: Bool

    enum State { case connecting, handshaking, open, closed }

    /// `connecting`: the socket is a client socket whose non-blocking connect is in flight.
    public convenience init(socket: Socket, context: TLSContext, loop: EventLoop, peerName: String? = nil,
                            peerAddress: SocketAddress? = nil, connecting: Bool = false) throws(TLSError) {
        try self.init(socket: socket, ssl: context.makeSession(fd: socket.fd, peerName: peerName),
                      requiresPSK: false, loop: loop, peerAddress: peerAddress, connecting: connecting)
    }

    /// An end-to-end session keyed by `psk`, the key the pairing agreed on, over a `TLSContext.externalPSK`
    /// context. The caller keeps and wipes `psk`. When the peer holds another key the handshake fails
    /// on both ends with a `TLSError` whose `isKeyMismatch` is true.
    public convenience init(socket: Socket, context: TLSContext, loop: EventLoop, psk: [UInt8],
                            peerAddress: SocketAddress? = nil, connecting: Bool = false) throws(TLSError) {
        try self.init(socket: socket, ssl: context.makeSession(fd: socket.fd, peerName: nil, psk: psk),
                      requiresPSK: true, loop: loop, peerAddress: peerAddress, connecting: connecting)
    }

    private init(socket: Socket, ssl: OpaquePointer, requiresPSK: Bool, loop: EventLoop, peerAddress: SocketAddress?,
                 connecting: Bool) {
        self.socket = socket
        self.loop = loop
        self.peerAddress = peerAddress
        self.ssl = ssl
        self.requiresPSK = requiresPSK
        readBuffer = .allocate(byteCount: 64 * 1024, alignment: 16)
        state = connecting ? .connecting : .handshaking
    }

    deinit {
        if let ssl { SSL_free(ssl) }
        readBuffer.deallocate()
    }

    /// Registers with the loop and starts the handshake; it must finish within `timeout` seconds.
    public func start(handshakeTimeout timeout: Double = 10) throws(SystemError) {
        socket.setNoDelay()
        socket.setKeepAlive()
        try loop.register(fd: socket.fd, interest: IOInterest.read | IOInterest.write, handler: self)
        handshakeTimer = loop.schedule(after: timeout) { [weak self] in
            self?.fail(TLSError("the TLS handshake did not finish within \(Int(timeout)) s", detail: ""))
        }
    }

    public var isOpen: Bool { state == .open }

    /// The protocol version the handshake settled on ("TLSv1.3"); nil until it is done.
    public var negotiatedVersion: String? {
        guard let ssl, SSL_is_init_finished(ssl) == 1 else { return nil }
        return String(cString: SSL_get_version(ssl))
    }

    /// The cipher suite the handshake settled on ("TLS_AES_128_GCM_SHA256"); nil until it is done.
    public var cipherName: String? {
        guard let ssl, SSL_is_init_finished(ssl) == 1, let cipher = SSL_get_current_cipher(ssl) else { return nil }
        return String(cString: SSL_CIPHER_get_name(cipher))
    }

    /// The handshake is done and was keyed by the `psk` this connection was made with.
    public var usedPSK: Bool {
        guard requiresPSK, let ssl else { return false }
        return SSL_is_init_finished(ssl) == 1 && SSL_session_reused(ssl) == 1
    }

    public var pendingOutbound: Int { outbound.count }

    /// Queues bytes for encryption and sends what the socket takes now.
    public func write(_ bytes: UnsafeRawBufferPointer) {
        guard state != .closed else { return }
        var rest = bytes
        if state == .open && outbound.isEmpty && !closeWhenFlushed, let ssl {
            // Write-through: encrypt straight from the caller's buffer and queue only what the
            // socket did not take (one copy less per byte on every hop). A retry after
            // WANT_WRITE starts with the same bytes, from the queue: SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER.
            while !rest.isEmpty {
                let n = SSL_write(ssl, rest.baseAddress, Int32(min(rest.count, 1 << 20)))
                if n > 0 {
                    rest = UnsafeRawBufferPointer(rebasing: rest[Int(n)...])
                    continue
                }
                switch SSL_get_error(ssl, n) {
                case SSL_ERROR_WANT_WRITE, SSL_ERROR_WANT_READ:
                    break
                default:
                    return fail(TLSError("TLS write failed"))
                }
                break
            }
            if rest.isEmpty { return }
        }
        outbound.append(rest)
        if state == .open { flush(notify: false) }
    }

    public func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write($0) }
    }

    /// Sends what is queued, then a close_notify, then closes.
    public func closeAfterFlushing() {
        closeWhenFlushed = true
        if state == .open { flush(notify: false) } else { close() }
    }

    public func close() { finish(error: nil) }

    /// Moves an open connection to another loop: it leaves this loop's epoll now and joins
    /// `target`'s on that loop's thread, where `then` runs first. Call on the current loop,
    /// between reads (the relay calls it at the end of a turn). Records OpenSSL already read
    /// ahead are delivered on the new loop.
    public func migrate(to target: EventLoop, then: @escaping () -> Void) {
        guard state == .open, target !== loop else { return then() }
        loop.deregister(fd: socket.fd)
        loop = target
        target.execute { [self] in
            guard state == .open else { return }
            do {
                try loop.register(fd: socket.fd, interest: IOInterest.read, handler: self)
            } catch {
                return fail(error)
            }
            updateInterest()
            then()
            if state == .open { readAvailable() }
        }
    }

    // MARK: IOHandler

    public func handleIO(events: UInt32) {
        if state == .connecting {
            let error = socket.connectError()
            if error != 0 {
                return fail(SystemError("connect", errno: error))
            }
            if events & IOInterest.error != 0 && events & VSHARE_EPOLLOUT == 0 { return }
            state = .handshaking
        }
        if state == .handshaking {
            handshake()
            return
        }
        guard state == .open else { return }
        if events & (IOInterest.read | IOInterest.error) != 0 || wantsWriteForRead { readAvailable() }
        if state == .open && events & IOInterest.write != 0 { flush() }
    }

    // MARK: Internals

    private func handshake() {
        guard let ssl else { return }
        let rc = SSL_do_handshake(ssl)
        if rc == 1 {
            // OpenSSL marks a session keyed by the PSK as resumed from it; anything else means the peer
            // authenticated some other way, which an end-to-end session never accepts.
            if requiresPSK && SSL_session_reused(ssl) != 1 {
                return fail(TLSError("TLS handshake failed: the peer did not use the session key, so it is not the paired"
                                     + " end; pair again with a new connect code", detail: "", keyMismatch: true))
            }
            state = .open
            if let handshakeTimer { loop.cancelTimer(handshakeTimer) }
            updateInterest()
            delegate?.tlsDidHandshake(self)
            if state == .open { flush(); readAvailable() }
            return
        }
        switch SSL_get_error(ssl, rc) {
        case SSL_ERROR_WANT_READ: loop.modify(fd: socket.fd, interest: IOInterest.read)
        case SSL_ERROR_WANT_WRITE: loop.modify(fd: socket.fd, interest: IOInterest.read | IOInterest.write)
        default:
            fail(handshakeFailure(ssl))
        }
    }

    /// Why the handshake failed, read before anything else empties OpenSSL's error queue.
    private func handshakeFailure(_ ssl: OpaquePointer) -> TLSError {
        if requiresPSK && vshare_ERR_peek_external_psk_mismatch() == 1 { return .keyMismatch() }
        let verify = SSL_get_verify_result(ssl)
        guard verify != X509_V_OK else { return TLSError("TLS handshake failed") }
        let detail = "certificate verify failed: " + String(cString: X509_verify_cert_error_string(verify))
        if requiresPSK {
            // The client trusts no certificate at all: whoever presented one is not the paired end.
            return TLSError("TLS handshake failed: the peer presented a certificate instead of proving it holds the"
                            + " session key, so it is not the paired end", detail: detail, certificateFailure: true)
        }
        return TLSError("TLS handshake failed", detail: detail, certificateFailure: true)
    }

    /// Decrypts what has arrived and hands it to the delegate. Records that are already in (read-ahead
    /// pulls several per socket read) are gathered into one delivery of up to the buffer's size: SSL_read
    /// returns one record (≤ 16 KiB) at a time, and delivering each alone would split every 32 KiB DATA
    /// frame, and so every write to the next hop's socket, in two.
    private func readAvailable() {
        wantsWriteForRead = false
        var filled = 0
        while state == .open, let ssl {
            let n = SSL_read(ssl, readBuffer.baseAddress! + filled, Int32(readBuffer.count - filled))
            if n > 0 {
                filled += Int(n)
                let more = SSL_pending(ssl) > 0 || SSL_has_pending(ssl) != 0
                if more && filled < readBuffer.count { continue }
                deliver(&filled)
                // Nothing decrypted or buffered left means the socket is likely empty: level-triggered
                // epoll will call again if not, which saves a read that says EAGAIN.
                if !more { return }
                continue
            }
            let error = SSL_get_error(ssl, n)
            let saved = errno   // before the delivery's own system calls can change it
            deliver(&filled)
            guard state == .open else { return }
            switch error {
            case SSL_ERROR_WANT_READ: return
            case SSL_ERROR_WANT_WRITE: wantsWriteForRead = true; updateInterest(); return
            case SSL_ERROR_ZERO_RETURN: return finish(error: nil)
            case SSL_ERROR_SYSCALL:
                return finish(error: n == 0 || saved == 0 ? nil : SystemError("TLS read", errno: saved))
            default: return fail(TLSError("TLS read failed"))
            }
        }
        deliver(&filled)
    }

    private func deliver(_ filled: inout Int) {
        guard filled > 0, state == .open else { filled = 0; return }
        let count = filled
        filled = 0
        delegate?.tls(self, didReceive: UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]))
    }

    /// `notify`: tell the delegate about drained space (not when the delegate itself is writing).
    private func flush(notify: Bool = true) {
        guard let ssl else { return }
        let before = outbound.count
        while state == .open && !outbound.isEmpty {
            var failure: Int32 = 0
            let written = outbound.consume { bytes in
                let n = SSL_write(ssl, bytes.baseAddress, Int32(min(bytes.count, 1 << 20)))
                if n > 0 { return Int(n) }
                failure = SSL_get_error(ssl, n)
                return 0
            }
            if written > 0 { continue }
            switch failure {
            case SSL_ERROR_WANT_WRITE, SSL_ERROR_WANT_READ:
                updateInterest()
                return
            default:
                return fail(TLSError("TLS write failed"))
            }
        }
        updateInterest()
        if outbound.isEmpty && closeWhenFlushed {
            SSL_shutdown(ssl)
            return finish(error: nil)
        }
        if notify && before > outbound.count && outbound.count < TLSConnection.lowWater {
            delegate?.tlsDidDrain(self)
        }
    }

    private func updateInterest() {
        guard state == .open else { return }
        let wantWrite = !outbound.isEmpty || wantsWriteForRead
        loop.modify(fd: socket.fd, interest: IOInterest.read | (wantWrite ? IOInterest.write : 0))
    }

    private func fail(_ error: Error) { finish(error: error) }

    private func finish(error: Error?) {
        guard state != .closed else { return }
        if state == .handshaking && error != nil { failedHandshakes.add(1, ordering: .relaxed) }
        state = .closed
        if let handshakeTimer { loop.cancelTimer(handshakeTimer) }
        loop.deregister(fd: socket.fd)
        socket.close()
        outbound.removeAll()
        delegate?.tlsDidClose(self, error: error)
    }
}

/// Handshakes this process saw fail (bad certificates, wrong keys, timeouts, garbage instead of
/// TLS), for metrics: one count for every connection, whatever loop it is on.
private let failedHandshakes = Atomic<Int>(0)

extension TLSConnection {
    public static var failedHandshakeCount: Int { failedHandshakes.load(ordering: .relaxed) }
}
