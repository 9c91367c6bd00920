import Glibc
import Identity
import Transport
import Wire

/// The relay's one-time tickets for data connections, shared by all loops. A ticket is issued when
/// a peer joins a share (`ConnectSession`): the peer and the share's agent each get it over their
/// control connections, each open a plain TCP data connection that starts with it, and the second
/// to arrive is joined to the first (`DataConnection`). A ticket serves one pair once, and dies
/// unused after `lifetime` seconds; the relay never sees anything but the two ends' ciphertext.
final class DataRendezvous: @unchecked Sendable {
    /// Seconds a ticket waits for both ends.
    static let lifetime = 20.0

    private struct Pending {
        let shareName: String
        let expiresAt: Double
        /// The end that arrived first: its side and the socket the table now owns.
        var waiting: (side: DataPreamble.Side, socket: Socket)?
    }

    enum Arrival {
        /// First of the pair: the table keeps the socket until the other end comes.
        case wait
        /// Second: here is the first end's socket, to join with this one on the caller's loop.
        case join(partner: Socket, shareName: String)
        /// Unknown, used or expired ticket, or a second connection for the same side.
        case refuse
    }

    private let lock = Lock()
    private var pending: [[UInt8]: Pending] = [:]

    /// A fresh ticket for a peer of `shareName`.
    func issue(shareName: String, now: Double = MonotonicClock.now()) -> [UInt8] {
        let ticket = SecretToken.randomBytes(DataPreamble.ticketLength)
        lock.withLock { pending[ticket] = Pending(shareName: shareName, expiresAt: now + Self.lifetime) }
        return ticket
    }

    /// A data connection presented `ticket` for `side`; `socket` is no longer registered with any loop.
    func arrive(ticket: [UInt8], side: DataPreamble.Side, socket: Socket, now: Double = MonotonicClock.now()) -> Arrival {
        lock.withLock {
            guard var entry = pending[ticket], entry.expiresAt > now else { return .refuse }
            guard let first = entry.waiting else {
                entry.waiting = (side, socket)
                pending[ticket] = entry
                return .wait
            }
            guard first.side != side else { return .refuse }
            pending[ticket] = nil
            return .join(partner: first.socket, shareName: entry.shareName)
        }
    }

    /// Drops expired tickets, closing any end still waiting. Returns how many ends were waiting.
    @discardableResult
    func sweep(now: Double = MonotonicClock.now()) -> Int {
        let expired: [Pending] = lock.withLock {
            let gone = pending.filter { $0.value.expiresAt <= now }
            for key in gone.keys { pending[key] = nil }
            return Array(gone.values)
        }
        var closed = 0
        for entry in expired {
            if let waiting = entry.waiting { waiting.socket.close(); closed += 1 }
        }
        return closed
    }

    var count: Int { lock.withLock { pending.count } }
}
