import Foundation
import Glibc
import Transport
import TransportTesting
import XCTest

/// A splice between two socket pairs: the test holds the far end of each (blocking, 5 s timeout)
/// and checks what comes out of the other.
final class SocketSpliceTests: XCTestCase {
    private var loop: EventLoop!
    private var left: Int32 = -1    // the test's end behind splice end a
    private var right: Int32 = -1   // the test's end behind splice end b
    private var closedCount = ClosedCount()

    override func setUpWithError() throws {
        loop = try EventLoop(name: "splice-test")
        loop.startThread()
        let (a, left) = try testSocketPair()
        let (b, right) = try testSocketPair()
        self.left = left
        self.right = right
        let closed = closedCount
        let failure: String? = loop.sync {
            do {
                let splice = try SocketSplice(a, b, loop: self.loop)
                splice.onClose = { closed.value += 1 }
                try splice.start()
                return nil
            } catch {
                return "\(error)"
            }
        }
        if let failure { XCTFail(failure) }
    }

    override func tearDown() {
        close(left)
        close(right)
        loop.stop()
    }

    private func send(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            XCTAssertGreaterThan(n, 0)
            if n <= 0 { return }
            offset += n
        }
    }

    private func receive(_ fd: Int32, count: Int) -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while out.count < count {
            let n = read(fd, &buffer, min(buffer.count, count - out.count))
            if n <= 0 { break }
            out += buffer[0..<n]
        }
        return out
    }

    func testBytesCrossBothWaysUnchanged() {
        send(left, Array("hello from a".utf8))
        XCTAssertEqual(receive(right, count: 12), Array("hello from a".utf8))
        send(right, Array("and back from b".utf8))
        XCTAssertEqual(receive(left, count: 15), Array("and back from b".utf8))
    }

    /// 16 MiB, far more than the pipes and socket buffers hold, written while nobody reads: the
    /// splice stops reading when full (backpressure) and everything arrives in order.
    func testALargeTransferArrivesWholeAndInOrder() {
        let total = 16 << 20
        let data = (0..<total).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 7) }
        let writer = Thread { [left] in
            var offset = 0
            while offset < data.count {
                let n = data.withUnsafeBytes { write(left, $0.baseAddress! + offset, min(1 << 16, data.count - offset)) }
                if n <= 0 { return }
                offset += n
            }
        }
        writer.start()
        usleep(200_000)   // let everything between fill up
        XCTAssertEqual(receive(right, count: total), data)
    }

    /// A FIN one way half-closes the other socket; the other direction still works; when both have
    /// finished the splice closes itself.
    func testHalfCloseCrossesAndBothFinsEndThePair() {
        send(left, [1, 2, 3])
        shutdown(left, Int32(SHUT_WR))
        XCTAssertEqual(receive(right, count: 3), [1, 2, 3])
        var byte: UInt8 = 0
        XCTAssertEqual(read(right, &byte, 1), 0, "the FIN crossed")
        send(right, [4, 5])
        XCTAssertEqual(receive(left, count: 2), [4, 5], "the other direction still works")
        XCTAssertEqual(loop.sync { self.closedCount.value }, 0)
        shutdown(right, Int32(SHUT_WR))
        XCTAssertEqual(read(left, &byte, 1), 0)
        XCTAssertTrue(loop.waitUntil { self.closedCount.value == 1 }, "both directions finished: closed once")
    }

    /// A socket hung up while the direction leaving it is full (nobody reads the other side, so its
    /// bytes were never read to EOF): the pair closes. This crashed the relay with an exclusivity
    /// violation (`ss -K` of a connect client's data connection under load).
    func testAHangupWhileItsDirectionIsFullClosesThePair() {
        _ = fcntl(left, F_SETFL, fcntl(left, F_GETFL) | O_NONBLOCK)
        let chunk = [UInt8](repeating: 7, count: 65536)
        let until = Date().addingTimeInterval(0.5)
        while Date() < until {   // fill the far socket, the pipe and the near socket; the splice stops reading
            if chunk.withUnsafeBytes({ write(left, $0.baseAddress!, $0.count) }) < 0 { usleep(10_000) }
        }
        close(left)
        left = -1
        XCTAssertTrue(loop.waitUntil { self.closedCount.value == 1 }, "a hung-up socket ends the pair")
    }

    func testAResetClosesThePair() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(left, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        close(left)
        left = -1
        var byte: UInt8 = 0
        XCTAssertLessThanOrEqual(read(right, &byte, 1), 0, "the other side is hung up on")
        XCTAssertTrue(loop.waitUntil { self.closedCount.value == 1 })
    }
}

private final class ClosedCount: @unchecked Sendable { var value = 0 }
