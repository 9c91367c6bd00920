import Synchronization

/// What a live share has carried so far, for the web interface: requests and response bytes
/// through its public URL, and the connect peers it has now. Counted on whichever loop serves the
/// traffic and read from the interface's; atomics, so nothing waits.
final class ShareTraffic: Sendable {
    private let requestCount = Atomic<Int>(0)
    private let byteCount = Atomic<Int>(0)
    private let peerCount = Atomic<Int>(0)

    func request(bytes: Int) {
        requestCount.add(1, ordering: .relaxed)
        byteCount.add(bytes, ordering: .relaxed)
    }

    func peerJoined() { peerCount.add(1, ordering: .relaxed) }
    func peerLeft() { peerCount.subtract(1, ordering: .relaxed) }

    var requests: Int { requestCount.load(ordering: .relaxed) }
    var bytes: Int { byteCount.load(ordering: .relaxed) }
    var peers: Int { peerCount.load(ordering: .relaxed) }
}
