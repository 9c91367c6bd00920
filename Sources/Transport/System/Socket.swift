import CShims
import Glibc

/// A non-blocking TCP socket. The one owner of its file descriptor: closing happens here and only here.
public final class Socket {
    public private(set) var fd: Int32

    /// Result of a non-blocking read or write.
    public enum IOResult: Equatable {
        case bytes(Int)      // > 0 bytes moved
        case wouldBlock
        case eof             // read only: the peer half-closed
    }

    public init(adopting fd: Int32) { self.fd = fd }

    deinit { close() }

    public var isOpen: Bool { fd >= 0 }

    public func close() {
        guard fd >= 0 else { return }
        ConnectionQuota.descriptorClosing(fd)
        Glibc.close(fd)
        fd = -1
    }

    /// Closes with an RST instead of a FIN, for aborted streams.
    public func abort() {
        guard fd >= 0 else { return }
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        close()
    }

    /// A listening socket with SO_REUSEADDR.
    public static func listen(on address: SocketAddress, backlog: Int32 = 1024) throws(SystemError) -> Socket {
        let fd = vshare_socket_nonblocking(address.family == .v6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue))
        guard fd >= 0 else { throw SystemError("socket") }
        let socket = Socket(adopting: fd)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let rc = address.withSockAddr { Glibc.bind(fd, $0, $1) }
        guard rc == 0 else { throw SystemError("bind \(address)") }
        guard Glibc.listen(fd, backlog) == 0 else { throw SystemError("listen \(address)") }
        return socket
    }

    /// Starts a non-blocking connect; completion is signalled by writability (check `connectError()`).
    public static func connect(to address: SocketAddress) throws(SystemError) -> Socket {
        let fd = vshare_socket_nonblocking(address.family == .v6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue))
        guard fd >= 0 else { throw SystemError("socket") }
        let socket = Socket(adopting: fd)
        let rc = address.withSockAddr { Glibc.connect(fd, $0, $1) }
        if rc != 0 && errno != EINPROGRESS { throw SystemError("connect \(address)") }
        return socket
    }

    /// Accepts one pending connection, or nil when none is waiting.
    public func accept() throws(SystemError) -> (Socket, SocketAddress?)? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let client = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { vshare_accept4(fd, $0, &length) }
        }
        if client < 0 {
            switch errno {
            case EAGAIN, EWOULDBLOCK, ECONNABORTED, EINTR: return nil
            default: throw SystemError("accept")
            }
        }
        return (Socket(adopting: client), SocketAddress(storage: storage))
    }

    /// The error of a finished non-blocking connect (0 = connected).
    public func connectError() -> Int32 {
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        return error
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> IOResult {
        let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
        if n > 0 { return .bytes(n) }
        if n == 0 { return .eof }
        if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return .wouldBlock }
        throw SystemError("read")
    }

    /// Like `read`, but leaves the bytes in the socket for the next reader (MSG_PEEK).
    public func peek(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> IOResult {
        let n = Glibc.recv(fd, buffer.baseAddress, buffer.count, Int32(MSG_PEEK))
        if n > 0 { return .bytes(n) }
        if n == 0 { return .eof }
        if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return .wouldBlock }
        throw SystemError("recv(MSG_PEEK)")
    }

    public func write(_ buffer: UnsafeRawBufferPointer) throws(SystemError) -> IOResult {
        guard buffer.count > 0 else { return .bytes(0) }
        let n = Glibc.send(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL))
        if n >= 0 { return .bytes(n) }
        if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return .wouldBlock }
        throw SystemError("write")
    }

    /// Half-closes the sending direction (TCP FIN).
    public func shutdownWrite() { if fd >= 0 { Glibc.shutdown(fd, Int32(SHUT_WR)) } }

    public func setNoDelay() {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    public func setKeepAlive() {
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    public func localAddress() -> SocketAddress? { SocketAddress.local(of: fd) }

    /// Gives up ownership of the descriptor (to move it to another event loop).
    public func release() -> Int32 {
        let owned = fd
        fd = -1
        return owned
    }
}
