// The datagram side of a tunnel, as much of it as the TUN pump uses: a protocol so the pump's
// tests can stand a fake in for a `TunnelConnection`.
import Transport

protocol DatagramTunnel: AnyObject {
    var isOpen: Bool { get }
    /// Whether a datagram of `size` bytes would be queued now.
    func hasDatagramRoom(for size: Int) -> Bool
    /// Queues one datagram, or drops it (false) when the tunnel's backlog is over its limit.
    @discardableResult
    func sendDatagram(channel: UInt32, _ bytes: UnsafeRawBufferPointer) -> Bool
    /// Asks for one `onDatagramRoom` call once the backlog has drained.
    func notifyWhenDatagramRoom()
    var onDatagramRoom: (() -> Void)? { get set }
}

extension TunnelConnection: DatagramTunnel {}
