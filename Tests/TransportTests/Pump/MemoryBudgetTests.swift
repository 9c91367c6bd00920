import XCTest
@testable import Transport
import TransportTesting
import Wire

/// What stream endpoints hold for slow readers is charged to the tunnel's budget, and given back
/// as the reader catches up or the stream ends.
final class MemoryBudgetTests: XCTestCase {
    private var loop: EventLoop!
    private var budget: MemoryBudget!
    private var left: FakeTunnel!
    private var right: FakeTunnel!
    private var pump: Pump!

    override func setUpWithError() throws {
        loop = try EventLoop(name: "budget-test")
        budget = MemoryBudget(limit: 100)
        left = FakeTunnel(loop: loop)
        left.memoryBudget = budget
        right = FakeTunnel(loop: loop)
        pump = Pump(TunnelStreamEndpoint(tunnel: left, stream: 1), TunnelStreamEndpoint(tunnel: right, stream: 1))
        try pump.start()
    }

    private func bytes(_ n: Int) -> [UInt8] { [UInt8](repeating: 7, count: n) }

    func testALimitCanChangeWhileBytesAreHeld() {
        let budget = MemoryBudget(limit: 100)
        budget.adjust(by: 80)
        XCTAssertFalse(budget.isExhausted)
        budget.setLimit(50)
        XCTAssertTrue(budget.isExhausted, "what is held stays; new work waits until it fits")
        budget.adjust(by: -40)
        XCTAssertFalse(budget.isExhausted)
        XCTAssertEqual(budget.limit, 50)
    }

    func testHeldBytesAreChargedAndReturnedAsTheReaderCatchesUp() {
        right.capacity = 30
        left[1].deliver(bytes(100))
        XCTAssertEqual(budget.inUse, 70, "what the reader did not take is held, and counted")
        XCTAssertFalse(budget.isExhausted)
        left[1].deliver(bytes(40))
        XCTAssertEqual(budget.inUse, 110)
        XCTAssertTrue(budget.isExhausted)
        right.grant(60)
        XCTAssertEqual(budget.inUse, 50)
        XCTAssertFalse(budget.isExhausted)
        right.grant(.max)
        XCTAssertEqual(budget.inUse, 0)
    }

    func testAResetStreamGivesBackWhatItHeld() {
        right.capacity = 0
        left[1].deliver(bytes(80))
        XCTAssertEqual(budget.inUse, 80)
        left[1].deliverReset(.cancelled)
        XCTAssertEqual(budget.inUse, 0)
    }

    /// The other side ends the stream while it is being handed held bytes: what is held is given
    /// back once the hand-over returns (not during it, when the bytes are still lent out).
    func testAStreamEndedWhileItsHeldBytesAreLentOutGivesThemBackAfter() throws {
        let lone = FakeTunnel(loop: loop)
        lone.memoryBudget = budget
        let endpoint = TunnelStreamEndpoint(tunnel: lone, stream: 5)
        final class Sink: ByteEndpointEvents {
            var room = 0
            func room(for reader: ByteEndpoint) -> Int { room }
            func waitForRoom(for reader: ByteEndpoint) {}
            func endpoint(_ reader: ByteEndpoint, didRead bytes: UnsafeRawBufferPointer) -> Int {
                guard room > 0 else { return 0 }
                reader.reset(code: .cancelled, reason: "the browser left")
                return 1
            }
            func endpointDidFinishReading(_ reader: ByteEndpoint) {}
            func endpointIsWritable(_ writer: ByteEndpoint) {}
            func endpoint(_ endpoint: ByteEndpoint, didReset code: ResetCode, reason: String) {}
            func endpointDidConnect(_ endpoint: ByteEndpoint) {}
        }
        let sink = Sink()
        endpoint.events = sink
        try endpoint.start()
        lone[5].deliver(bytes(40))
        XCTAssertEqual(budget.inUse, 40)
        sink.room = 10
        endpoint.resumeReading()
        XCTAssertEqual(budget.inUse, 0)
    }

    func testAnEndpointDroppedWhileHoldingGivesItBack() throws {
        let lone = FakeTunnel(loop: loop)
        lone.memoryBudget = budget
        var endpoint: TunnelStreamEndpoint? = TunnelStreamEndpoint(tunnel: lone, stream: 3)
        final class Refuser: ByteEndpointEvents {
            func room(for reader: ByteEndpoint) -> Int { 0 }
            func waitForRoom(for reader: ByteEndpoint) {}
            func endpoint(_ reader: ByteEndpoint, didRead bytes: UnsafeRawBufferPointer) -> Int { 0 }
            func endpointDidFinishReading(_ reader: ByteEndpoint) {}
            func endpointIsWritable(_ writer: ByteEndpoint) {}
            func endpoint(_ endpoint: ByteEndpoint, didReset code: ResetCode, reason: String) {}
            func endpointDidConnect(_ endpoint: ByteEndpoint) {}
        }
        let refuser = Refuser()
        endpoint?.events = refuser
        try endpoint?.start()
        lone[3].deliver(bytes(25))
        XCTAssertEqual(budget.inUse, 25)
        lone.detach(stream: 3)
        endpoint = nil
        XCTAssertEqual(budget.inUse, 0)
    }
}
