/// What a packet pump needs from the tunnel that carries its datagrams (the connect side's TUN
/// pump and SOCKS UDP, the share side's packet sessions). `TunnelConnection` is the real one; tests
/// stand a fake in (`TransportTesting.FakeTunnel`), as `TunnelStreams` does for streams.
public protocol TunnelDatagrams: AnyObject {
    var loop: EventLoop { get }
    var isOpen: Bool { get }
    /// Whether a datagram of `size` bytes would be queued now.
    func hasDatagramRoom(for size: Int) -> Bool
    /// Queues one datagram, or drops it (false, counted) when the tunnel's backlog is over its limit.
    @discardableResult
    func sendDatagram(channel: UInt32, _ bytes: UnsafeRawBufferPointer) -> Bool
    /// Asks for one `onDatagramRoom` call once the backlog has drained.
    func notifyWhenDatagramRoom()
    /// Set by the tunnel's owner; called once per `notifyWhenDatagramRoom`.
    var onDatagramRoom: (() -> Void)? { get set }
}
