import CShims
import Glibc

/// A non-blocking UDP socket: connected (one flow to one target port) or bound (a SOCKS UDP relay
/// that talks to any local client). The one owner of its descriptor.
public final class DatagramSocket {
    public private(set) var fd: Int32

    private init(fd: Int32) { self.fd = fd }
    deinit { close() }

    public func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    /// A socket whose every datagram goes to `address`; ICMP errors from there surface as
    /// ECONNREFUSED on the next send or receive.
    public static func connected(to address: SocketAddress) throws(SystemError) -> DatagramSocket {
        let socket = try make(family: address.family)
        let rc = address.withSockAddr { Glibc.connect(socket.fd, $0, $1) }
        guard rc == 0 else { throw SystemError("connect \(address)") }
        return socket
    }

    public static func bound(to address: SocketAddress) throws(SystemError) -> DatagramSocket {
        let socket = try make(family: address.family)
        let rc = address.withSockAddr { Glibc.bind(socket.fd, $0, $1) }
        guard rc == 0 else { throw SystemError("bind \(address)") }
        return socket
    }

    private static func make(family: SocketAddress.Family) throws(SystemError) -> DatagramSocket {
        let fd = vshare_socket_nonblocking(family == .v6 ? AF_INET6 : AF_INET, Int32(SOCK_DGRAM.rawValue))
        guard fd >= 0 else { throw SystemError("socket") }
        return DatagramSocket(fd: fd)
    }

    public enum Received { case datagram(Int), wouldBlock }

    /// Receives one datagram (a connected socket); ECONNREFUSED is thrown as a SystemError.
    public func receive(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Received {
        let n = Glibc.recv(fd, buffer.baseAddress, buffer.count, 0)
        if n >= 0 { return .datagram(n) }
        if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return .wouldBlock }
        throw SystemError("recv")
    }

    /// Receives one datagram and says who sent it (a bound socket); nil when none is waiting.
    public func receiveFrom(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> (count: Int, from: SocketAddress)? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let n = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.recvfrom(fd, buffer.baseAddress, buffer.count, 0, $0, &length) }
        }
        if n < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return nil }
            throw SystemError("recvfrom")
        }
        guard let from = SocketAddress(storage: storage) else { return nil }
        return (n, from)
    }

    /// Sends one datagram on a connected socket. False when the socket buffer is full (dropped).
    @discardableResult
    public func send(_ bytes: UnsafeRawBufferPointer) throws(SystemError) -> Bool {
        let n = Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
        if n >= 0 { return true }
        if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ENOBUFS { return false }
        throw SystemError("send")
    }

    @discardableResult
    public func send(_ bytes: UnsafeRawBufferPointer, to address: SocketAddress) throws(SystemError) -> Bool {
        let n = address.withSockAddr { Glibc.sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), $0, $1) }
        if n >= 0 { return true }
        if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ENOBUFS { return false }
        throw SystemError("sendto")
    }

    public func localAddress() -> SocketAddress? { SocketAddress.local(of: fd) }
}
