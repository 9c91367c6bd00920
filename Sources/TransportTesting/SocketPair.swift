import Glibc
import Transport

/// A connected pair of stream sockets: the first non-blocking, owned by the code under test (a
/// `Socket`); the second blocking with a 5 s receive timeout, the test's own end, so a read that
/// waits for something that never comes fails the test instead of hanging it. The caller closes it.
public func testSocketPair() throws(SystemError) -> (Socket, Int32) {
    var pair: [Int32] = [-1, -1]
    guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0 else { throw SystemError("socketpair") }
    _ = fcntl(pair[0], F_SETFL, fcntl(pair[0], F_GETFL) | O_NONBLOCK)
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(pair[1], SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    return (Socket(adopting: pair[0]), pair[1])
}
