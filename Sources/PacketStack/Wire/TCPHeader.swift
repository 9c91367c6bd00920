import Wire
public struct TCPFlags: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let fin = TCPFlags(rawValue: 0x01)
    public static let syn = TCPFlags(rawValue: 0x02)
    public static let rst = TCPFlags(rawValue: 0x04)
    public static let psh = TCPFlags(rawValue: 0x08)
    public static let ack = TCPFlags(rawValue: 0x10)
    public static let urg = TCPFlags(rawValue: 0x20)
    public static let ece = TCPFlags(rawValue: 0x40)
    public static let cwr = TCPFlags(rawValue: 0x80)

    public var description: String {
        let names: [(TCPFlags, String)] = [(.syn, "S"), (.fin, "F"), (.rst, "R"), (.psh, "P"), (.ack, "."), (.urg, "U")]
        return names.filter { contains($0.0) }.map(\.1).joined()
    }
}

/// The TCP header (RFC 9293 §3.1) with the options this stack uses: MSS, window scale
/// (RFC 7323), SACK-permitted (parsed, never used), timestamps (parsed, ignored).
/// `parse` checks the data offset and option lengths; the checksum needs the IP pseudo-header:
/// `verifyChecksum`. `emit` writes the header and options (checksum field 0): `fillChecksum`.
public struct TCPHeader: Equatable, Sendable {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var sequenceNumber: UInt32
    public var acknowledgmentNumber: UInt32
    public var flags: TCPFlags
    public var window: UInt16
    public var urgentPointer: UInt16 = 0
    /// Bytes of header including options, as parsed (emit computes its own).
    public var headerLength: Int = 20
    public var maxSegmentSize: UInt16? = nil
    public var windowScale: UInt8? = nil
    public var sackPermitted: Bool = false
    public var timestampValue: UInt32? = nil
    public var timestampEcho: UInt32? = nil

    public init(sourcePort: UInt16, destinationPort: UInt16, sequenceNumber: UInt32, acknowledgmentNumber: UInt32,
                flags: TCPFlags, window: UInt16) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.sequenceNumber = sequenceNumber
        self.acknowledgmentNumber = acknowledgmentNumber
        self.flags = flags
        self.window = window
    }

    public static func parse(_ b: UnsafeRawBufferPointer) throws(WireError) -> TCPHeader {
        guard let p = b.baseAddress, b.count >= 20 else { throw .truncated }
        let offset = Int(p.load(fromByteOffset: 12, as: UInt8.self) >> 4) * 4
        guard offset >= 20 else { throw .badHeaderLength }
        guard offset <= b.count else { throw .truncated }
        var h = TCPHeader(sourcePort: loadBE16(p, 0), destinationPort: loadBE16(p, 2),
                          sequenceNumber: loadBE32(p, 4), acknowledgmentNumber: loadBE32(p, 8),
                          flags: TCPFlags(rawValue: p.load(fromByteOffset: 13, as: UInt8.self)),
                          window: loadBE16(p, 14))
        h.urgentPointer = loadBE16(p, 18)
        h.headerLength = offset
        var i = 20
        while i < offset {
            let kind = p.load(fromByteOffset: i, as: UInt8.self)
            if kind == 0 { break }
            if kind == 1 { i += 1; continue }
            guard i + 1 < offset else { throw .badOption }
            let len = Int(p.load(fromByteOffset: i + 1, as: UInt8.self))
            guard len >= 2, i + len <= offset else { throw .badOption }
            switch (kind, len) {
            case (2, 4): h.maxSegmentSize = loadBE16(p, i + 2)
            case (3, 3): h.windowScale = min(14, p.load(fromByteOffset: i + 2, as: UInt8.self))   // RFC 7323 §2.3
            case (4, 2): h.sackPermitted = true
            case (8, 10):
                h.timestampValue = loadBE32(p, i + 2)
                h.timestampEcho = loadBE32(p, i + 6)
            case (2, _), (3, _), (4, _), (8, _): throw .badOption
            default: break   // unknown options are skipped
            }
            i += len
        }
        return h
    }

    /// Options this header emits: MSS (4), NOP+window scale (4), NOP NOP SACK-permitted (4).
    public var emittedLength: Int {
        20 + (maxSegmentSize != nil ? 4 : 0) + (windowScale != nil ? 4 : 0) + (sackPermitted ? 4 : 0)
    }

    /// Writes `emittedLength` bytes, checksum field zero. Timestamps are never emitted.
    @discardableResult
    public func emit(into p: UnsafeMutableRawPointer) -> Int {
        let len = emittedLength
        storeBE16(p, 0, sourcePort)
        storeBE16(p, 2, destinationPort)
        storeBE32(p, 4, sequenceNumber)
        storeBE32(p, 8, acknowledgmentNumber)
        p.storeBytes(of: UInt8(len / 4) << 4, toByteOffset: 12, as: UInt8.self)
        p.storeBytes(of: flags.rawValue, toByteOffset: 13, as: UInt8.self)
        storeBE16(p, 14, window)
        storeBE16(p, 16, 0)
        storeBE16(p, 18, urgentPointer)
        var i = 20
        if let mss = maxSegmentSize {
            storeBE16(p, i, 0x0204)
            storeBE16(p, i + 2, mss)
            i += 4
        }
        if let ws = windowScale {
            storeBE32(p, i, 0x0103_0300 | UInt32(ws))
            i += 4
        }
        if sackPermitted {
            storeBE32(p, i, 0x0101_0402)
            i += 4
        }
        return len
    }

    /// Checks the checksum of `segment` (header + payload) against the pseudo-header.
    public static func verifyChecksum(_ segment: UnsafeRawBufferPointer, source: IPv4Address, destination: IPv4Address) -> Bool {
        Checksum.verify(segment, initial: Checksum.pseudoHeader(source: source, destination: destination,
                                                                protocolNumber: IPv4Header.protocolTCP, length: segment.count))
    }

    /// Computes and stores the checksum of the `length`-byte segment at `p`.
    public static func fillChecksum(_ p: UnsafeMutableRawPointer, length: Int, source: IPv4Address, destination: IPv4Address) {
        storeBE16(p, 16, 0)
        let s = Checksum.combine(Checksum.pseudoHeader(source: source, destination: destination,
                                                       protocolNumber: IPv4Header.protocolTCP, length: length),
                                 Checksum.sum(UnsafeRawPointer(p), length))
        storeBE16(p, 16, Checksum.finish(s))
    }
}
