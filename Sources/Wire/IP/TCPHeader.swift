// The TCP header (RFC 9293 §3.1) as a value, with the options a stack negotiates: MSS, window
// scale and timestamps (RFC 7323), SACK-permitted (RFC 2018).
//
// Symmetric: `parse` verifies the checksum against the IP pseudo-header and reads those options;
// `emit` writes them and fills the checksum. Options are emitted in Linux's layout (MSS; SACK-
// permitted folded into the timestamps' padding, or NOP NOP SACK-permitted; NOP window scale), so
// a header from a Linux peer re-emits byte for byte; other options are skipped when parsing and
// therefore not re-emitted.

/// The timestamps option (RFC 7323 §3): TSval and TSecr.
public struct TCPTimestamp: Equatable, Sendable {
    public var value: UInt32
    public var echo: UInt32

    public init(value: UInt32, echo: UInt32) {
        self.value = value
        self.echo = echo
    }
}

public struct TCPHeader: Equatable, Sendable {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var sequenceNumber: UInt32
    public var acknowledgmentNumber: UInt32
    public var flags: TCPFlags
    public var window: UInt16
    public var urgentPointer: UInt16 = 0
    public var maxSegmentSize: UInt16? = nil
    /// The shift as sent (a receiver caps it at 14, RFC 7323 §2.3; the codec does not).
    public var windowScale: UInt8? = nil
    public var sackPermitted: Bool = false
    public var timestamp: TCPTimestamp? = nil

    public init(sourcePort: UInt16, destinationPort: UInt16, sequenceNumber: UInt32, acknowledgmentNumber: UInt32,
                flags: TCPFlags, window: UInt16) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.sequenceNumber = sequenceNumber
        self.acknowledgmentNumber = acknowledgmentNumber
        self.flags = flags
        self.window = window
    }

    /// Bytes `emit` writes before the payload: 20 + MSS (4) + timestamps (12) or SACK-permitted
    /// alone (4) + window scale (4).
    public var headerLength: Int {
        20 + (maxSegmentSize != nil ? 4 : 0) + (timestamp != nil ? 12 : (sackPermitted ? 4 : 0)) + (windowScale != nil ? 4 : 0)
    }

    /// Parses and checks `segment` (TCP header + payload, exactly the IP payload): data offset,
    /// option lengths, then the checksum over the pseudo-header and the whole segment. The payload
    /// starts at `payloadOffset` (the data offset, which may exceed `headerLength` when the peer
    /// sent options this codec skips).
    public static func parse(_ segment: UnsafeRawBufferPointer, source: IPv4Address,
                             destination: IPv4Address) throws(IPPacketError) -> (header: TCPHeader, payloadOffset: Int) {
        guard segment.count >= 20 else { throw .truncated }
        let offset = Int(segment[12] >> 4) * 4
        guard offset >= 20 else { throw .badHeaderLength }
        guard offset <= segment.count else { throw .truncated }
        var h = TCPHeader(sourcePort: segment.bigEndianUInt16(at: 0), destinationPort: segment.bigEndianUInt16(at: 2),
                          sequenceNumber: segment.bigEndianUInt32(at: 4), acknowledgmentNumber: segment.bigEndianUInt32(at: 8),
                          flags: TCPFlags(rawValue: segment[13]), window: segment.bigEndianUInt16(at: 14))
        h.urgentPointer = segment.bigEndianUInt16(at: 18)
        var i = 20
        while i < offset {
            let kind = segment[i]
            if kind == 0 { break }              // end of option list
            if kind == 1 { i += 1; continue }   // NOP
            guard i + 1 < offset else { throw .badOption }
            let length = Int(segment[i + 1])
            guard length >= 2, i + length <= offset else { throw .badOption }
            switch (kind, length) {
            case (2, 4): h.maxSegmentSize = segment.bigEndianUInt16(at: i + 2)
            case (3, 3): h.windowScale = segment[i + 2]
            case (4, 2): h.sackPermitted = true
            case (8, 10): h.timestamp = TCPTimestamp(value: segment.bigEndianUInt32(at: i + 2), echo: segment.bigEndianUInt32(at: i + 6))
            case (2, _), (3, _), (4, _), (8, _): throw .badOption
            default: break   // unknown options are skipped
            }
            i += length
        }
        let pseudo = InternetChecksum.pseudoHeader(source: source, destination: destination,
                                                   protocolNumber: IPv4Header.protocolTCP, length: segment.count)
        guard InternetChecksum.verify(segment, initial: pseudo) else { throw .badChecksum }
        return (h, offset)
    }

    /// Writes the header and its options at the start of `segment`, whose payload must already lie
    /// at `segment[headerLength...]` (the segment is the whole buffer), and fills the checksum.
    /// Returns the header length. Throws, writing nothing, when `segment` is shorter than the header.
    @discardableResult
    public func emit(into segment: UnsafeMutableRawBufferPointer, source: IPv4Address,
                     destination: IPv4Address) throws(IPPacketError) -> Int {
        let length = headerLength
        guard segment.count >= length else { throw .bufferTooSmall(needed: length, available: segment.count) }
        guard segment.count <= 65535 - 20 else { throw .badLength }
        segment.storeBigEndian(sourcePort, at: 0)
        segment.storeBigEndian(destinationPort, at: 2)
        segment.storeBigEndian(sequenceNumber, at: 4)
        segment.storeBigEndian(acknowledgmentNumber, at: 8)
        segment[12] = UInt8(length / 4) << 4
        segment[13] = flags.rawValue
        segment.storeBigEndian(window, at: 14)
        segment.storeBigEndian(UInt16(0), at: 16)
        segment.storeBigEndian(urgentPointer, at: 18)
        var i = 20
        if let mss = maxSegmentSize {
            segment.storeBigEndian(UInt32(0x0204_0000) | UInt32(mss), at: i)
            i += 4
        }
        if let timestamp {
            segment.storeBigEndian(sackPermitted ? UInt32(0x0402_080A) : UInt32(0x0101_080A), at: i)
            segment.storeBigEndian(timestamp.value, at: i + 4)
            segment.storeBigEndian(timestamp.echo, at: i + 8)
            i += 12
        } else if sackPermitted {
            segment.storeBigEndian(UInt32(0x0101_0402), at: i)
            i += 4
        }
        if let shift = windowScale {
            segment.storeBigEndian(UInt32(0x0103_0300) | UInt32(shift), at: i)
            i += 4
        }
        let sum = InternetChecksum.combine(
            InternetChecksum.pseudoHeader(source: source, destination: destination, protocolNumber: IPv4Header.protocolTCP,
                                          length: segment.count),
            InternetChecksum.sum(segment))
        segment.storeBigEndian(InternetChecksum.finish(sum), at: 16)
        return length
    }
}
