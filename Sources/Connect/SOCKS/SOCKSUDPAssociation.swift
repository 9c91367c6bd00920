import Transport
import Wire

/// One SOCKS5 UDP ASSOCIATE: a UDP socket on the proxy's address where the client sends
/// SOCKS-wrapped datagrams. Each goes into the session as an IPv4/UDP packet from
/// `SOCKS5Server.udpSourceAddress`:`port` to the machine, so the share side treats it like any
/// other UDP flow; replies come back as packets to that address and port and are re-wrapped.
/// The association lives as long as its TCP control connection (RFC 1928 §7).
final class SOCKSUDPAssociation: IOHandler {
    private let control: Socket
    private let udp: DatagramSocket
    private unowned let server: SOCKS5Server
    /// The client's UDP address: the sender of the first datagram, from the control connection's host.
    private var clientUDP: SocketAddress?
    private let clientHost: String?
    let boundAddress: IPv4Address
    let boundPort: UInt16
    private var port: UInt16 = 0
    private var closed = false
    /// Datagrams from the client are received at `UDPPacket.headerLength`, so the IPv4/UDP headers
    /// can be written over the SOCKS header in front of the payload: no copy per datagram.
    private let buffer: UnsafeMutableRawBufferPointer
    /// Replies for the client (SOCKS header + payload), reused.
    private var reply: [UInt8] = []

    private final class ControlWatcher: IOHandler {
        weak var association: SOCKSUDPAssociation?
        func handleIO(events: UInt32) { association?.controlEvent() }
    }
    private let watcher = ControlWatcher()

    init?(control: Socket, client: SocketAddress?, server: SOCKS5Server) {
        guard let local = try? SocketAddress(host: server.address.host, port: 0),
              let udp = try? DatagramSocket.bound(to: local),
              let bound = udp.localAddress(), let boundIP = IPv4Address(bound.host) else { return nil }
        self.control = control
        self.udp = udp
        self.server = server
        clientHost = client?.host
        boundAddress = boundIP
        boundPort = bound.port
        buffer = .allocate(byteCount: UDPPacket.headerLength + 65536, alignment: 16)
    }

    deinit { buffer.deallocate() }

    func start() {
        guard let port = server.register(self) else { return close() }
        self.port = port
        watcher.association = self
        do {
            try server.loop.register(fd: udp.fd, interest: IOInterest.read, handler: self)
            try server.loop.register(fd: control.fd, interest: IOInterest.read, handler: watcher)
        } catch {
            close()
        }
    }

    /// A datagram from the client: unwrap, check the destination, send as a packet.
    func handleIO(events: UInt32) {
        var count = 0
        let now = MonotonicClock.now()   // the gate's clock: one reading per wake-up
        while !closed && count < 64 {
            let space = UnsafeMutableRawBufferPointer(rebasing: buffer[UDPPacket.headerLength...])
            guard let (n, from) = try? udp.receiveFrom(into: space) else { return }
            count += 1
            if clientUDP == nil, from.host == clientHost { clientUDP = from }
            guard from == clientUDP else { continue }   // only the client that asked
            let datagram = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(space)[0..<n])
            guard let (header, offset) = try? SOCKS5UDPHeader.parse(datagram), server.allows(header.address),
                  let tunnel = server.tunnel else { continue }
            // The packet ends where the datagram ends and starts 28 bytes before its payload.
            let packet = UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<(UDPPacket.headerLength + n)])
            guard let length = try? UDPPacket.emit(into: packet, source: SOCKS5Server.udpSourceAddress, sourcePort: port,
                                                   destination: server.machineAddress, destinationPort: header.port,
                                                   payloadLength: n - offset) else { continue }
            let bytes = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(packet)[0..<length])
            server.capture?.write(packet: bytes)
            server.gate?.noteOutbound(bytes, now: now)
            tunnel.sendDatagram(channel: 0, bytes)
        }
    }

    /// A reply from the machine's `fromPort`, for the client.
    func deliver(fromPort: UInt16, payload: UnsafeRawBufferPointer) {
        guard let clientUDP, !closed else { return }
        reply.removeAll(keepingCapacity: true)
        SOCKS5UDPHeader(address: .ipv4(server.machineAddress), port: fromPort).encode(into: &reply)
        reply.append(contentsOf: payload)
        _ = reply.withUnsafeBytes { try? udp.send($0, to: clientUDP) }
    }

    /// The control connection said something or closed: the association ends with it.
    fileprivate func controlEvent() {
        var scratch = [UInt8](repeating: 0, count: 256)
        let result = scratch.withUnsafeMutableBytes { try? control.read(into: $0) }
        switch result {
        case .bytes?, .wouldBlock?: return   // clients have nothing to say here; ignore it
        default: close()
        }
    }

    func close() {
        guard !closed else { return }
        closed = true
        if port != 0 { server.unregister(port: port) }
        server.loop.deregister(fd: udp.fd)
        server.loop.deregister(fd: control.fd)
        udp.close()
        control.close()
    }
}
