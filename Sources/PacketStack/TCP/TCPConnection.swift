// Why this file is over 400 lines: the receive path, the send path and the timers of one TCP
// connection read and write the same sequence, window and timer fields (an ACK arriving moves
// sndUna, restarts the RTO and may send; a timer retransmits and backs off). Those fields are
// `private` so that PacketStack and the shell can change them only through the calls below;
// extensions in other files could not reach them without opening them to the whole module.
// The pieces that stand alone already live beside it: ByteRing, ReassemblyQueue,
// RetransmissionTimer, CongestionControl, SequenceNumber, TCPState.
import Wire

/// One TCP flow terminated by the stack: the RFC 9293 state machine with RFC 5961 RST/SYN/ACK
/// checks, window scaling (RFC 7323), RFC 6298 retransmission, NewReno, out-of-order
/// reassembly in place, zero-window probing and half-close in both directions.
///
/// Stream positions are 64-bit offsets (byte 0 follows the SYN); sequence numbers are derived
/// from them, so wrap-around only matters where segments are compared with `rcvNxt`/`sndUna`.
final class TCPConnection {
    let id: FlowID
    let key: FlowKey
    unowned let stack: PacketStack
    private(set) var state: TCPState = .synPending

    // MARK: receive side
    let irs: UInt32
    let rcv: ByteRing
    private(set) var rcvAbs = 0                 // peer bytes received in order
    private var reassembly = ReassemblyQueue()
    private var peerFinAbs: Int? = nil
    private(set) var finReceived = false
    let rcvScale: UInt8                         // our window shift (0 if the peer did not offer scaling)
    let sndScale: UInt8                         // the peer's window shift
    private var advertisedEdge = 0              // right edge of the last window we advertised
    private var rcvMSS = 536                    // largest segment seen from the peer (ACK every 2nd)
    private var unackedBytes = 0
    var ackPending = false
    /// The pending ACK reopens the window (the shell read data): it goes out with the next
    /// transmit, never on the delayed-ACK timer, or a bulk sender would stall.
    private var windowUpdatePending = false
    /// Whether the pending ACK may wait for the delayed-ACK timer: less than one full segment
    /// is unacknowledged and no window update waits. Interactive exchanges (a request, then the
    /// machine's answer) then carry the ACK on the answer, as Linux's delayed ACK does, instead
    /// of sending a pure ACK through relay and peer for every request.
    var ackMayWait: Bool { !windowUpdatePending && unackedBytes < rcvMSS }
    var inAckList = false
    private var receivedNotified = false
    private(set) var peerFinishedNotified = false

    // MARK: send side
    let iss: UInt32
    let snd: ByteRing
    private(set) var sndUnaAbs = 0
    private(set) var sndNxtAbs = 0
    private(set) var sndMaxAbs = 0
    private(set) var finQueued = false
    private var finSent = false                 // sndNxt includes our FIN
    private var finEverSent = false
    private(set) var finAcked = false
    private(set) var sndWnd = 0
    private var sndWl1: UInt32 = 0
    private var sndWl2: UInt32 = 0
    private var maxSndWnd = 0
    let peerOfferedScaling: Bool
    let mss: Int                                // what we send per segment
    let advertisedMSS: Int                      // what we told the peer
    private(set) var rtt = RetransmissionTimer()
    private(set) var cc: NewReno
    private var dupAcks = 0
    private var timing: (end: Int, at: Double)? = nil     // one RTT measurement at a time (Karn)
    private var synAckSentAt: Double? = nil               // nil once the SYN-ACK was retransmitted
    private var retries = 0
    var wantWritable = false
    var inBlockedList = false
    private(set) var closeReported = false

    // MARK: timers
    private(set) var rexmitDeadline: Double? = nil
    private var persisting = false
    private var delayedAckDeadline: Double? = nil
    private var timeWaitDeadline: Double? = nil
    var heapDeadline: Double? = nil
    var countedHalfOpen = true
    var countedTimeWait = false

    static let maxSynAckRetries = 5
    static let maxRetries = 10

    init(id: FlowID, key: FlowKey, stack: PacketStack, syn: TCPHeader, iss: UInt32) {
        self.id = id
        self.key = key
        self.stack = stack
        self.irs = syn.sequenceNumber
        self.iss = iss
        let config = stack.config
        rcv = ByteRing(limit: max(config.receiveBuffer, 1))
        snd = ByteRing(limit: max(config.sendBuffer, 1))
        advertisedMSS = config.effectiveMTU - 40
        mss = max(64, min(Int(syn.maxSegmentSize ?? 536), advertisedMSS))
        peerOfferedScaling = syn.windowScale != nil
        if let peerShift = syn.windowScale {
            sndScale = min(peerShift, 14)   // RFC 7323 §2.3: larger shifts are treated as 14
            var shift: UInt8 = 0
            while shift < 14 && (65535 << Int(shift)) < rcv.limit { shift += 1 }
            rcvScale = shift
        } else {
            sndScale = 0
            rcvScale = 0
        }
        cc = NewReno(mss: mss)
    }

    private var now: Double { stack.now }

    // MARK: sequence numbers and windows

    var sndUnaSeq: UInt32 { state == .synReceived ? iss : seqAt(iss, sndUnaAbs) &+ (finAcked ? 1 : 0) }
    var sndNxtSeq: UInt32 { state == .synReceived ? iss &+ 1 : seqAt(iss, sndNxtAbs) &+ (finSent ? 1 : 0) }
    var rcvNxtSeq: UInt32 { seqAt(irs, rcvAbs) &+ (finReceived ? 1 : 0) }
    /// Receive-buffer space: the window we can honour.
    var receiveWindow: Int { rcv.limit - rcv.count }
    var canWrite: Bool { (state == .synReceived || state == .established || state == .closeWait) && !finQueued }
    /// Room in the send buffer. Asking when there is none counts as a short write: the shell
    /// hears `tcpWritable` once room is back (it reads its socket only while there is room).
    var sendCapacity: Int {
        let room = canWrite ? snd.free : 0
        if room == 0 && canWrite { wantWritable = true }
        return room
    }
    var isTimeWait: Bool { state == .timeWait }

    private func windowField() -> UInt16 {
        let w = min(receiveWindow, 65535 << Int(rcvScale))
        return UInt16(w >> Int(rcvScale))
    }

    /// Earliest pending timer, for the stack's timer heap.
    var earliestDeadline: Double? {
        var d = rexmitDeadline
        if let t = delayedAckDeadline { d = min(d ?? t, t) }
        if let t = timeWaitDeadline { d = min(d ?? t, t) }
        return d
    }

    // MARK: emitting

    private func emit(flags: TCPFlags, seq: UInt32, dataAt offset: Int = 0, count: Int = 0) {
        let field = windowField()
        advertisedEdge = max(advertisedEdge, rcvAbs + Int(field) << Int(rcvScale))
        stack.emitTCP(key, seq: seq, ack: rcvNxtSeq, flags: flags, window: field, ring: snd, offset: offset, count: count)
        unackedBytes = 0
        ackPending = false
        windowUpdatePending = false
        delayedAckDeadline = nil
    }

    func sendAck() {
        emit(flags: .ack, seq: sndNxtSeq)
    }

    private func sendSynAck() {
        var h = TCPHeader(sourcePort: key.port, destinationPort: key.peerPort, sequenceNumber: iss,
                          acknowledgmentNumber: irs &+ 1, flags: [.syn, .ack], window: UInt16(min(receiveWindow, 65535)))
        h.maxSegmentSize = UInt16(advertisedMSS)
        h.windowScale = peerOfferedScaling ? rcvScale : nil
        stack.emitTCP(header: h, to: key)
        advertisedEdge = Int(h.window)
    }


    private func scheduleAck() {
        guard !ackPending else { return }
        ackPending = true
        delayedAckDeadline = now + stack.config.delayedAckTimeout
        stack.scheduleAck(self)
    }

    // MARK: shell calls

    func connected() {
        guard state == .synPending else { return }
        state = .synReceived
        sendSynAck()
        synAckSentAt = now
        rexmitDeadline = now + rtt.rto
        stack.reschedule(self)
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard canWrite else { return 0 }
        let n = snd.append(bytes)
        if n < bytes.count { wantWritable = true }
        output()
        stack.reschedule(self)
        return n
    }

    func read(_ body: (UnsafeRawBufferPointer) -> Int) {
        receivedNotified = false
        while rcv.count > 0 {
            let region = rcv.firstReadable
            let n = min(max(body(region), 0), region.count)
            rcv.consume(n)
            if n < region.count { break }
        }
        // Window update (receiver-side SWS avoidance, RFC 9293 §3.8.6.2.2): only when the
        // window grew by at least min(MSS, half the buffer) since the last advertisement.
        let edge = rcvAbs + Int(windowField()) << Int(rcvScale)
        if state.receivesData && edge - advertisedEdge >= min(advertisedMSS, rcv.limit / 2) {
            windowUpdatePending = true
            scheduleAck()
        }
        checkPeerFinished()
        stack.reschedule(self)
    }

    func finish() {
        switch state {
        case .synReceived: finQueued = true
        case .established: finQueued = true; state = .finWait1
        case .closeWait: finQueued = true; state = .lastAck
        default: return
        }
        output()
        stack.reschedule(self)
    }

    /// RST to the peer and gone, without an event (the shell asked for it).
    func abort() {
        if state == .synPending {
            sendRefusal()
        } else if state != .closed && state != .timeWait {
            emit(flags: [.rst, .ack], seq: sndNxtSeq)
        }
        terminate(reset: true, notify: false)
    }

    func sendRefusal() {
        let h = TCPHeader(sourcePort: key.port, destinationPort: key.peerPort, sequenceNumber: 0,
                          acknowledgmentNumber: irs &+ 1, flags: [.rst, .ack], window: 0)
        stack.emitTCP(header: h, to: key)
    }

    // MARK: segment arrival

    /// Processes one segment for this flow. True if it was accepted, false if dropped (counted).
    func segmentArrived(_ h: TCPHeader, _ payload: UnsafeRawBufferPointer) -> Bool {
        let flags = h.flags
        switch state {
        case .closed:
            stack.counters.ignored += 1
            return false
        case .synPending:
            if flags.contains(.rst) && h.sequenceNumber == irs &+ 1 {
                terminate(reset: true, notify: true)
                return true
            }
            stack.counters.ignored += 1      // a repeated SYN while the shell dials, or nonsense
            return false
        case .synReceived:
            if flags.contains(.syn) && !flags.contains(.ack) && h.sequenceNumber == irs {
                sendSynAck()                 // our SYN-ACK was lost: answer the repeated SYN
                return true
            }
        default:
            break
        }

        // RFC 9293 §3.10.7.4, first: the sequence number must fall in the receive window.
        let segLen = payload.count + (flags.contains(.syn) ? 1 : 0) + (flags.contains(.fin) ? 1 : 0)
        let rel = seqDistance(h.sequenceNumber, rcvNxtSeq)
        let wnd = receiveWindow
        var acceptable: Bool
        if segLen == 0 {
            acceptable = wnd == 0 ? rel == 0 : (rel >= 0 && rel < wnd)
        } else {
            acceptable = wnd > 0 && ((rel >= 0 && rel < wnd) || (rel + segLen - 1 >= 0 && rel + segLen - 1 < wnd))
            // A closed window still takes the ACK (and RST) of an in-sequence segment.
            if wnd == 0 && rel == 0 { acceptable = true }
        }
        if !acceptable {
            if !flags.contains(.rst) { sendAck() }
            if state == .timeWait && flags.contains(.fin) { timeWaitDeadline = now + stack.config.timeWait; stack.reschedule(self) }
            stack.counters.outOfWindow += 1
            return false
        }
        // Second: RST. RFC 5961 §3: only an exactly in-sequence RST resets; others get a challenge ACK.
        if flags.contains(.rst) {
            if rel == 0 {
                terminate(reset: true, notify: true)
                return true
            }
            sendAck()
            stack.counters.ignored += 1
            return false
        }
        // Fourth: a SYN in a synchronized state: challenge ACK (RFC 5961 §4).
        if flags.contains(.syn) {
            sendAck()
            stack.counters.ignored += 1
            return false
        }
        // Fifth: the ACK field.
        guard flags.contains(.ack) else {
            stack.counters.ignored += 1
            return false
        }
        if state == .synReceived {
            guard h.acknowledgmentNumber == iss &+ 1 else {
                let rst = TCPHeader(sourcePort: key.port, destinationPort: key.peerPort, sequenceNumber: h.acknowledgmentNumber,
                                    acknowledgmentNumber: 0, flags: .rst, window: 0)
                stack.emitTCP(header: rst, to: key)
                stack.counters.ignored += 1
                return false
            }
            state = finQueued ? .finWait1 : .established
            stack.leftHalfOpen(self)
            if let t = synAckSentAt { rtt.sample(now - t) }
            rtt.resetBackoff()
            retries = 0
            rexmitDeadline = nil
            sndWnd = Int(h.window) << Int(sndScale)
            maxSndWnd = sndWnd
            sndWl1 = h.sequenceNumber
            sndWl2 = h.acknowledgmentNumber
        }
        if !processAck(h, payload: payload) {
            return false
        }
        if state == .closed { return true }

        // Seventh/eighth: data and FIN.
        if (!payload.isEmpty || flags.contains(.fin)) && state.receivesData {
            receiveData(rel: rel, payload: payload, fin: flags.contains(.fin))
        } else if !payload.isEmpty {
            sendAck()   // data after the peer's FIN: nothing to take, but say where we are
        }
        output()
        stack.reschedule(self)
        return true
    }

    /// ACK processing for synchronized states; false if the segment must be dropped.
    private func processAck(_ h: TCPHeader, payload: UnsafeRawBufferPointer) -> Bool {
        let ack = h.acknowledgmentNumber
        let ackRel = seqDistance(ack, sndUnaSeq)
        let outstandingFin = finEverSent && !finAcked ? 1 : 0
        let maxRel = sndMaxAbs - sndUnaAbs + outstandingFin
        if ackRel > maxRel {
            // Acknowledges something never sent (RFC 5961 §5.2): ACK and drop.
            sendAck()
            stack.counters.ignored += 1
            return false
        }
        if ackRel < 0 {
            if -ackRel > max(maxSndWnd, 65535) {
                sendAck()
                stack.counters.ignored += 1
                return false
            }
            return true   // an old duplicate ACK: ignore the ACK field, keep the data
        }
        let scaledWindow = Int(h.window) << Int(sndScale)
        if ackRel > 0 {
            newDataAcked(ackRel, maxRel: maxRel, outstandingFin: outstandingFin)
        } else if payload.isEmpty && !h.flags.contains(.fin) && scaledWindow == sndWnd && sndMaxAbs > sndUnaAbs {
            dupAcks += 1
            if cc.onDuplicateAck(count: dupAcks, flight: sndNxtAbs - sndUnaAbs, highestSent: sndMaxAbs, ackOffset: sndUnaAbs) {
                timing = nil
                retransmitFirst()
            }
        }
        // Window update (RFC 9293 §3.10.7.4, SND.WL1/SND.WL2).
        if seqLT(sndWl1, h.sequenceNumber) || (sndWl1 == h.sequenceNumber && seqLE(sndWl2, ack)) {
            let opened = sndWnd == 0 && scaledWindow > 0
            sndWnd = scaledWindow
            maxSndWnd = max(maxSndWnd, sndWnd)
            sndWl1 = h.sequenceNumber
            sndWl2 = ack
            if opened && persisting {
                persisting = false
                rexmitDeadline = nil
                rtt.resetBackoff()
            }
        }
        // Our FIN acknowledged: state transitions.
        if finAcked {
            switch state {
            case .finWait1: state = .finWait2
            case .closing: enterTimeWait()
            case .lastAck:
                state = .closed
                maybeReportClose()
            default: break
            }
        }
        return true
    }

    private func newDataAcked(_ n: Int, maxRel: Int, outstandingFin: Int) {
        var dataAcked = n
        if outstandingFin == 1 && n == maxRel {
            finAcked = true
            dataAcked -= 1
        }
        snd.consume(dataAcked)
        sndUnaAbs += dataAcked
        if sndNxtAbs < sndUnaAbs { sndNxtAbs = sndUnaAbs }
        if finAcked {
            sndNxtAbs = sndMaxAbs
            finSent = true
        }
        if let t = timing, sndUnaAbs >= t.end {
            rtt.sample(now - t.at)
            timing = nil
        }
        rtt.resetBackoff()
        retries = 0
        dupAcks = 0
        if persisting { persisting = false }
        let flight = sndNxtAbs - sndUnaAbs
        if cc.onAck(acked: dataAcked, ackOffset: sndUnaAbs, flight: flight) == .retransmitFirst {
            retransmitFirst()
        }
        if sndMaxAbs == sndUnaAbs && (!finEverSent || finAcked) {
            rexmitDeadline = nil
        } else {
            rexmitDeadline = now + rtt.rto
        }
        if wantWritable && canWrite && snd.free >= max(1, min(snd.limit / 4, 256 * 1024)) {
            wantWritable = false
            stack.post(.tcpWritable(id))
        }
    }

    private func receiveData(rel: Int, payload: UnsafeRawBufferPointer, fin: Bool) {
        let segAbs = rcvAbs + rel
        var limitAbs = rcvAbs + receiveWindow
        if let f = peerFinAbs { limitAbs = min(limitAbs, f) }
        var start = segAbs
        var end = segAbs + payload.count
        if start < rcvAbs { start = rcvAbs }
        if end > limitAbs { end = limitAbs }
        var ackNow = false
        let before = rcvAbs
        if end > start {
            rcvMSS = min(max(rcvMSS, payload.count), advertisedMSS)
            let data = UnsafeRawBufferPointer(rebasing: payload[(start - segAbs)..<(end - segAbs)])
            if start == rcvAbs && reassembly.isEmpty {
                rcv.write(at: rcv.count, data)
                rcv.commit(data.count)
                rcvAbs = end
            } else {
                if reassembly.insert(start..<end) {
                    rcv.write(at: rcv.count + (start - rcvAbs), data)
                    if let newEnd = reassembly.popContiguous(at: rcvAbs) {
                        rcv.commit(newEnd - rcvAbs)
                        rcvAbs = newEnd
                    }
                }
                ackNow = true   // a hole appeared or was filled: ACK at once (RFC 5681 §4.2)
            }
        } else if !payload.isEmpty {
            ackNow = true       // nothing new: a duplicate; tell the peer where we are
        }
        if fin && peerFinAbs == nil {
            let finAbs = segAbs + payload.count
            if finAbs <= rcvAbs + receiveWindow && finAbs >= (reassembly.highestEnd ?? 0) && finAbs >= rcvAbs {
                peerFinAbs = finAbs
            }
        }
        if rcvAbs > before {
            if !receivedNotified {
                receivedNotified = true
                stack.post(.tcpReceived(id))
            }
            unackedBytes += rcvAbs - before
            if unackedBytes >= 2 * rcvMSS { ackNow = true }
        }
        if let f = peerFinAbs, !finReceived, rcvAbs >= f {
            finReceived = true
            ackNow = true
            switch state {
            case .established: state = .closeWait
            case .finWait1: if finAcked { enterTimeWait() } else { state = .closing }
            case .finWait2: enterTimeWait()
            default: break
            }
            checkPeerFinished()
        }
        if ackNow {
            sendAck()
        } else if rcvAbs > before {
            scheduleAck()
        }
    }

    private func enterTimeWait() {
        state = .timeWait
        stack.enteredTimeWait(self)
        rexmitDeadline = nil
        persisting = false
        maybeReportClose()
    }

    private func checkPeerFinished() {
        guard finReceived, !peerFinishedNotified, rcv.count == 0 else { return }
        peerFinishedNotified = true
        stack.post(.tcpPeerFinished(id))
        maybeReportClose()
    }

    /// Both directions done: tell the shell once it has read everything (the data must not be lost).
    private func maybeReportClose() {
        guard !closeReported, peerFinishedNotified else { return }
        switch state {
        case .timeWait:
            closeReported = true
            stack.post(.tcpClosed(id, reset: false))
            timeWaitDeadline = now + stack.config.timeWait
        case .closed:
            closeReported = true
            stack.post(.tcpClosed(id, reset: false))
            stack.removeTCP(self)
        default:
            break
        }
    }

    /// Gone at once: RST received, given up, or aborted by the shell.
    private func terminate(reset: Bool, notify: Bool) {
        state = .closed
        if notify && !closeReported { stack.post(.tcpClosed(id, reset: reset)) }
        closeReported = true
        stack.removeTCP(self)
    }

    // MARK: sending

    /// Sends what the peer's window, cwnd and the output queue allow; FIN after the last byte.
    func output(forceOne: Bool = false) {
        guard state.sends else { return }
        var force = forceOne
        while true {
            let sendEnd = sndUnaAbs + snd.count
            let unsent = sendEnd - sndNxtAbs
            let flight = sndNxtAbs - sndUnaAbs
            if unsent > 0 {
                let allowed = min(sndWnd, cc.cwnd) - flight
                if allowed <= 0 {
                    if sndWnd == 0 && flight == 0 && rexmitDeadline == nil {
                        persisting = true
                        rexmitDeadline = now + rtt.rto
                    }
                    return
                }
                let len = min(unsent, allowed, mss)
                // Sender SWS avoidance: no runt segments while data is in flight.
                if len < mss && len < unsent && flight > 0 && len < maxSndWnd / 2 { return }
                if !force && stack.outputQueueFull {
                    stack.block(self)
                    return
                }
                force = false
                let last = sndNxtAbs + len == sendEnd
                let fin = last && finQueued
                var flags: TCPFlags = .ack
                if last { flags.insert(.psh) }
                if fin { flags.insert(.fin) }
                if timing == nil && sndNxtAbs >= sndMaxAbs { timing = (sndNxtAbs + len, now) }
                emit(flags: flags, seq: seqAt(iss, sndNxtAbs), dataAt: sndNxtAbs - sndUnaAbs, count: len)
                sndNxtAbs += len
                sndMaxAbs = max(sndMaxAbs, sndNxtAbs)
                if fin {
                    finSent = true
                    finEverSent = true
                }
                if rexmitDeadline == nil || persisting {
                    persisting = false
                    rexmitDeadline = now + rtt.rto
                }
            } else if finQueued && !finSent && !finAcked {
                emit(flags: [.fin, .ack], seq: seqAt(iss, sndNxtAbs))
                finSent = true
                finEverSent = true
                if rexmitDeadline == nil || persisting {
                    persisting = false
                    rexmitDeadline = now + rtt.rto
                }
                return
            } else {
                return
            }
        }
    }

    /// Retransmits the first unacknowledged segment (fast retransmit, partial ACK, RTO).
    private func retransmitFirst() {
        let outstanding = sndMaxAbs - sndUnaAbs
        let len = min(outstanding, mss)
        if len > 0 {
            let fin = finEverSent && !finAcked && len == outstanding
            var flags: TCPFlags = .ack
            if fin { flags.insert(.fin) }
            if sndUnaAbs + len == sndUnaAbs + snd.count { flags.insert(.psh) }
            emit(flags: flags, seq: seqAt(iss, sndUnaAbs), dataAt: 0, count: len)
            if sndNxtAbs < sndUnaAbs + len { sndNxtAbs = sndUnaAbs + len }
            if fin { finSent = true }
        } else if finEverSent && !finAcked {
            emit(flags: [.fin, .ack], seq: seqAt(iss, sndUnaAbs))
            finSent = true
        }
    }

    // MARK: timers

    func fireTimers() {
        let t = now
        if let d = timeWaitDeadline, d <= t {
            timeWaitDeadline = nil
            stack.removeTCP(self)
            return
        }
        if let d = delayedAckDeadline, d <= t {
            delayedAckDeadline = nil
            if ackPending { sendAck() }
        }
        if let d = rexmitDeadline, d <= t {
            rexmitDeadline = nil
            if persisting {
                // Zero-window probe, like Linux: an old sequence number makes the peer answer with its window.
                emit(flags: .ack, seq: sndUnaSeq &- 1)
                rtt.backoff()
                rexmitDeadline = t + rtt.rto
            } else {
                retransmissionTimeout()
            }
        }
    }

    private func retransmissionTimeout() {
        // Packets still wait in our own output queue (the tunnel is backed up): nothing was lost
        // on the way yet, and another copy would only grow the queue. Wait, without spending a retry.
        if stack.outputQueueFull && state != .synReceived {
            rtt.backoff()
            rexmitDeadline = now + rtt.rto
            return
        }
        retries += 1
        if state == .synReceived {
            guard retries <= Self.maxSynAckRetries else {
                sendRefusalOrReset()
                terminate(reset: true, notify: true)
                return
            }
            rtt.backoff()
            synAckSentAt = nil
            sendSynAck()
            rexmitDeadline = now + rtt.rto
            return
        }
        let outstanding = sndMaxAbs > sndUnaAbs || (finEverSent && !finAcked)
        guard state.sends && outstanding else { return }
        guard retries <= Self.maxRetries else {
            sendRefusalOrReset()
            terminate(reset: true, notify: true)
            return
        }
        rtt.backoff()
        cc.onTimeout(flight: sndNxtAbs - sndUnaAbs, highestSent: sndMaxAbs)
        timing = nil
        dupAcks = 0
        // Go back N: everything after sndUna is sent again as the (collapsed) cwnd allows.
        sndNxtAbs = sndUnaAbs
        if !finAcked { finSent = false }
        retransmitFirst()
        output()
        rexmitDeadline = now + rtt.rto
    }

    private func sendRefusalOrReset() {
        emit(flags: [.rst, .ack], seq: sndNxtSeq)
    }
}
