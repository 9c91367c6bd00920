// The test's own end of a real connection on 127.0.0.1: a target a role dials, or a client of a
// role's listener. Blocking, with timeouts, so a test that waits in vain fails instead of hanging.
import Glibc
import Transport

/// One IPv4 socket on loopback, TCP or UDP, owned by a test (closed when it goes away).
public final class LoopbackSocket {
    public private(set) var fd: Int32

    private init(fd: Int32) { self.fd = fd }

    deinit { close() }

    /// A TCP listener on 127.0.0.1 and a free port.
    public static func listener() throws(SystemError) -> LoopbackSocket {
        let socket = try make(SOCK_STREAM)
        var one: Int32 = 1
        setsockopt(socket.fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        try socket.bind(port: 0)
        guard Glibc.listen(socket.fd, 16) == 0 else { throw SystemError("listen") }
        return socket
    }

    /// A TCP connection to 127.0.0.1:`port`.
    public static func connect(to port: UInt16) throws(SystemError) -> LoopbackSocket {
        let socket = try make(SOCK_STREAM)
        var address = loopback(port: port)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket.fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw SystemError("connect") }
        return socket
    }

    /// A UDP socket bound to 127.0.0.1 and a free port.
    public static func udp() throws(SystemError) -> LoopbackSocket {
        let socket = try make(SOCK_DGRAM)
        try socket.bind(port: 0)
        return socket
    }

    /// A port on 127.0.0.1 nothing listens on (bound once to learn it, then closed).
    public static func closedPort() throws(SystemError) -> UInt16 {
        let probe = try listener()
        return probe.port
    }

    /// The local port.
    public var port: UInt16 {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return UInt16(bigEndian: address.sin_port)
    }

    /// Accepts one connection waiting now or within `timeout` seconds.
    public func accept(timeout: Double = 2) -> LoopbackSocket? {
        guard ready(timeout: timeout) else { return nil }
        let client = Glibc.accept(fd, nil, nil)
        return client >= 0 ? LoopbackSocket(fd: client) : nil
    }

    /// Sends all of `bytes` (TCP), or one datagram to 127.0.0.1:`port` (UDP). Whether it all went.
    @discardableResult
    public func send(_ bytes: [UInt8], toPort port: UInt16? = nil) -> Bool {
        guard let port else {
            var sent = 0
            while sent < bytes.count {
                let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
                guard n > 0 else { return false }
                sent += n
            }
            return true
        }
        var address = Self.loopback(port: port)
        let n = bytes.withUnsafeBytes { payload in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, payload.baseAddress, payload.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        return n == bytes.count
    }

    /// Reads until `count` bytes came, the peer closed, or `timeout` seconds passed; what came.
    public func receive(count: Int, timeout: Double = 2) -> [UInt8] {
        var got: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let deadline = MonotonicClock.now() + timeout
        while got.count < count, ready(timeout: deadline - MonotonicClock.now()) {
            let n = buffer.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, min($0.count, count - got.count), 0) }
            guard n > 0 else { break }
            got += buffer[0..<n]
        }
        return got
    }

    /// Whether the peer closes the connection (EOF or reset) within `timeout` seconds.
    public func receivesEOF(timeout: Double = 2) -> Bool {
        var byte: UInt8 = 0
        let deadline = MonotonicClock.now() + timeout
        while ready(timeout: deadline - MonotonicClock.now()) {
            let n = Glibc.recv(fd, &byte, 1, 0)
            if n <= 0 { return true }
        }
        return false
    }

    /// One datagram received within `timeout` seconds, with the port it came from.
    public func receiveDatagram(timeout: Double = 2) -> (bytes: [UInt8], fromPort: UInt16)? {
        guard ready(timeout: timeout) else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65536)
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let n = buffer.withUnsafeMutableBytes { bytes in
            withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, bytes.baseAddress, bytes.count, 0, $0, &length) }
            }
        }
        guard n >= 0 else { return nil }
        return (Array(buffer[0..<n]), UInt16(bigEndian: address.sin_port))
    }

    /// Whether something can be read (or accepted) within `timeout` seconds.
    public func ready(timeout: Double) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, Int32(max(0, timeout) * 1000)) == 1
    }

    public func close() {
        guard fd >= 0 else { return }
        Glibc.close(fd)
        fd = -1
    }

    private static func make(_ type: __socket_type) throws(SystemError) -> LoopbackSocket {
        let fd = Glibc.socket(AF_INET, Int32(type.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket") }
        return LoopbackSocket(fd: fd)
    }

    private func bind(port: UInt16) throws(SystemError) {
        var address = Self.loopback(port: port)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw SystemError("bind") }
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}
