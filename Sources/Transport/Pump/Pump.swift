import Wire

/// Joins two endpoints with backpressure both ways, half-close and resets.
///
/// Bytes move in the source's own buffer (a socket read buffer, a view into the TLS read buffer,
/// the stack's ring) straight into the sink: nothing is copied here. The pump holds no bytes; a
/// source keeps what its sink did not take (bounded by the credit it granted, or by one read).
/// The endpoints hold the pump (as `events`) and whatever owns the endpoints (the loop's
/// registration, the tunnel's handler table) keeps the pair alive until the pump ends.
public final class Pump: ByteEndpointEvents {
    public let a: ByteEndpoint
    public let b: ByteEndpoint
    private var aFinished = false   // a → b done (FIN passed on)
    private var bFinished = false   // b → a done
    private var ended = false
    /// Called once when the pump ends: nil after both directions finished, else the reset's code.
    public var onEnd: ((ResetCode?) -> Void)?

    public init(_ a: ByteEndpoint, _ b: ByteEndpoint) {
        self.a = a
        self.b = b
        a.events = self
        b.events = self
    }

    /// Starts both endpoints; when one cannot start, the other is reset and the error rethrown.
    public func start() throws(SystemError) {
        do {
            try a.start()
            try b.start()
        } catch {
            a.reset(code: .internalError, reason: "\(error)")
            b.reset(code: .internalError, reason: "\(error)")
            end(.internalError)
            throw error
        }
    }

    private func other(of endpoint: ByteEndpoint) -> ByteEndpoint { endpoint === a ? b : a }

    // MARK: ByteEndpointEvents

    public func room(for reader: ByteEndpoint) -> Int {
        ended ? 0 : other(of: reader).writeCapacity
    }

    public func waitForRoom(for reader: ByteEndpoint) {
        guard !ended else { return }
        other(of: reader).notifyWhenWritable()
    }

    public func endpoint(_ reader: ByteEndpoint, didRead bytes: UnsafeRawBufferPointer) -> Int {
        guard !ended else { return 0 }
        let sink = other(of: reader)
        let taken = sink.write(bytes)
        if taken < bytes.count && !ended { sink.notifyWhenWritable() }
        return taken
    }

    public func endpointDidFinishReading(_ reader: ByteEndpoint) {
        guard !ended else { return }
        other(of: reader).finishWriting()
        if reader === a { aFinished = true } else { bFinished = true }
        if aFinished && bFinished {
            a.close()
            b.close()
            end(nil)
        }
    }

    public func endpointIsWritable(_ writer: ByteEndpoint) {
        guard !ended else { return }
        other(of: writer).resumeReading()
    }

    public func endpoint(_ endpoint: ByteEndpoint, didReset code: ResetCode, reason: String) {
        guard !ended else { return }
        ended = true   // before the other end's reset, so nothing it does re-enters the pump
        other(of: endpoint).reset(code: code, reason: reason)
        end(code)
    }

    public func endpointDidConnect(_ endpoint: ByteEndpoint) {
        guard !ended else { return }
        other(of: endpoint).otherSideConnected()
    }

    private func end(_ code: ResetCode?) {
        ended = true
        a.events = nil
        b.events = nil
        let onEnd = self.onEnd
        self.onEnd = nil
        onEnd?(code)
    }
}
