import Console
import Transport
import TunDevice
import Wire

/// Moves packets between the TUN interface and the tunnel: what local programs send to the machine
/// IP goes out as DATAGRAM frames (channel 0), and packets from the share are written back.
/// Backpressure: when the tunnel has no room, the TUN is not read until it drains, so the kernel's
/// queue fills and TCP over the interface slows down instead of losing packets here.
final class TunPump: IOHandler {
    let device: TunDevice
    private let loop: EventLoop
    private let capture: PacketCaptureFile?
    private let batch: PacketBatch
    private var next = 0                 // first packet of `batch` not yet sent
    private weak var tunnel: TunnelConnection?
    private var waiting = false          // for tunnel room
    private(set) var droppedToTun = 0

    init(device: TunDevice, loop: EventLoop, capture: PacketCaptureFile?) throws(SystemError) {
        self.device = device
        self.loop = loop
        self.capture = capture
        batch = PacketBatch(capacity: 32, maxPacketSize: device.mtu)
        try loop.register(fd: device.fd, interest: IOInterest.read, handler: self)
    }

    /// The tunnel packets go into (a new one after a reconnect; nil while reconnecting).
    func attach(_ tunnel: TunnelConnection?) {
        self.tunnel = tunnel
        waiting = false
        tunnel?.onDatagramRoom = { [weak self] in self?.resume() }
        resume()
    }

    func handleIO(events: UInt32) {
        pump()
    }

    private func pump() {
        while !waiting {
            if next == batch.count {
                next = 0
                do {
                    guard try device.read(into: batch) > 0 else { return }
                } catch {
                    Console.error("==> connect: reading the TUN interface failed: \(error)")
                    return
                }
            }
            guard let tunnel, tunnel.isOpen else {
                next = batch.count   // no tunnel: the packets are lost, as on an unplugged link
                continue
            }
            while next < batch.count {
                let packet = batch.packet(next)
                guard tunnel.hasDatagramRoom(for: packet.count) else {
                    waiting = true
                    tunnel.notifyWhenDatagramRoom()
                    loop.modify(fd: device.fd, interest: IOInterest.none)
                    return
                }
                capture?.write(packet: packet)
                tunnel.sendDatagram(channel: 0, packet)
                next += 1
            }
        }
    }

    private func resume() {
        guard device.isOpen else { return }
        if waiting {
            waiting = false
            loop.modify(fd: device.fd, interest: IOInterest.read)
        }
        pump()
    }

    /// A packet from the share for local programs (the client already captured it).
    func deliver(_ packet: UnsafeRawBufferPointer) {
        do {
            if try !device.write(packet) { droppedToTun += 1 }
        } catch {
            droppedToTun += 1
        }
    }

    func close() {
        loop.deregister(fd: device.fd)
        device.close()
    }
}
