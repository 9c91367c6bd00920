import Console
import PacketCapture
import Transport
import TunDevice
import Wire

/// Moves packets between the TUN interface and the tunnel: what local programs send to the machine
/// IP goes out as DATAGRAM frames (channel 0), and packets from the share are written back.
///
/// Backpressure both ways. Towards the tunnel: when it has no room, the TUN is not read until it
/// drains, so the kernel's queue fills and TCP over the interface slows down instead of losing
/// packets here. Towards the TUN: a packet is written through at once (no copy); only when the
/// device is full are packets copied into a bounded batch, written in order with the batched
/// write when the fd becomes writable (beyond the batch they are dropped and counted).
final class TunPump: IOHandler {
    private let device: any TunDevice
    private let loop: EventLoop
    private let capture: PacketCaptureFile?
    /// Told of every packet sent toward the share, so that what comes back can be checked.
    private let gate: PeerPacketGate?
    /// When the packets in `inbound` were read (the gate's clock: one reading per batch).
    private var readAt = 0.0
    /// Read from the device, sent to the tunnel from `nextToSend` on.
    private let inbound: PacketBatch
    private var nextToSend = 0
    /// From the tunnel, waiting for room in the device from `nextToWrite` on.
    private let outbound: PacketBatch
    private var nextToWrite = 0
    private weak var tunnel: (any TunnelDatagrams)?
    /// Set while the tunnel has no room for the packet at `nextToSend`. The fd's read interest is
    /// derived from this flag on every change, here and nowhere else: when callers cleared it and
    /// re-armed reading as separate steps, a reconnect could clear it first and the re-arm never
    /// ran, leaving the TUN registered without EPOLLIN for good.
    private var waitingForTunnel = false {
        didSet { if waitingForTunnel != oldValue { updateInterest() } }
    }
    /// What the event loop watches the fd for (internal for tests).
    private(set) var interest = IOInterest.read
    private(set) var droppedToTun = 0

    init(device: any TunDevice, loop: EventLoop, capture: PacketCaptureFile?, gate: PeerPacketGate? = nil,
         batchSize: Int = 32) throws(SystemError) {
        self.device = device
        self.loop = loop
        self.capture = capture
        self.gate = gate
        inbound = PacketBatch(capacity: batchSize, maxPacketSize: device.mtu)
        outbound = PacketBatch(capacity: batchSize, maxPacketSize: device.mtu)
        try loop.register(fd: device.fd, interest: interest, handler: self)
    }

    /// The tunnel packets go into (a new one after a reconnect; nil while reconnecting).
    func attach(_ tunnel: (any TunnelDatagrams)?) {
        self.tunnel?.onDatagramRoom = nil   // the old tunnel's late wake-up is not for the new one
        self.tunnel = tunnel
        tunnel?.onDatagramRoom = { [weak self] in self?.resume() }
        resume()
    }

    func handleIO(events: UInt32) {
        if events & IOInterest.write != 0 { writeWaiting() }
        if events & ~IOInterest.write != 0 { pump() }
    }

    // MARK: Device → tunnel

    private func pump() {
        while !waitingForTunnel {
            if nextToSend == inbound.count {
                nextToSend = 0
                do {
                    guard try device.read(into: inbound) > 0 else { return }
                    if gate != nil { readAt = MonotonicClock.now() }
                } catch {
                    inbound.count = 0
                    Console.error("==> connect: reading the TUN interface failed: \(error)")
                    return
                }
            }
            guard let tunnel, tunnel.isOpen else {
                nextToSend = inbound.count   // no tunnel: the packets are lost, as on an unplugged link
                continue
            }
            while nextToSend < inbound.count {
                let packet = inbound.packet(nextToSend)
                guard tunnel.hasDatagramRoom(for: packet.count) else {
                    waitingForTunnel = true
                    tunnel.notifyWhenDatagramRoom()
                    return
                }
                capture?.write(packet: packet)
                gate?.noteOutbound(packet, now: readAt)
                tunnel.sendDatagram(channel: 0, packet)
                nextToSend += 1
            }
        }
    }

    /// The tunnel has room again, or another tunnel (or none) took its place.
    private func resume() {
        guard device.isOpen else { return }
        waitingForTunnel = false
        pump()
    }

    // MARK: Tunnel → device

    /// A packet from the share for local programs (the client already captured it).
    func deliver(_ packet: UnsafeRawBufferPointer) {
        guard device.isOpen else { return }
        if outbound.count == 0 {   // nothing waiting (writeWaiting empties the batch once all went out)
            do {
                if try device.write(packet) { return }
            } catch {
                droppedToTun += 1   // refused by the kernel (malformed, over the MTU)
                return
            }
        }
        // Behind packets that wait, or the device is full: keep it, in order, if there is room.
        guard outbound.append(packet) else {
            droppedToTun += 1
            return
        }
        updateInterest()
    }

    /// The device has room again: write what waits, as one batch.
    private func writeWaiting() {
        do {
            nextToWrite += try device.write(outbound, from: nextToWrite)
        } catch {
            Console.error("==> connect: writing to the TUN interface failed: \(error)")
            droppedToTun += outbound.count - nextToWrite
            nextToWrite = outbound.count
        }
        if nextToWrite == outbound.count {
            outbound.count = 0
            nextToWrite = 0
        }
        updateInterest()
    }

    // MARK: Readiness

    /// Read while the tunnel has room; write-readiness while packets wait for the device.
    private func updateInterest() {
        let wanted = (waitingForTunnel ? IOInterest.none : IOInterest.read)
            | (nextToWrite < outbound.count ? IOInterest.write : IOInterest.none)
        guard wanted != interest, device.isOpen else { return }
        interest = wanted
        loop.modify(fd: device.fd, interest: wanted)
    }

    func close() {
        guard device.isOpen else { return }
        loop.deregister(fd: device.fd)
        device.close()
    }
}
