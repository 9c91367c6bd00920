import CShims
import Glibc

/// SIGINT, SIGTERM and SIGHUP as a readable file descriptor (signalfd), so a loop handles Ctrl-C like
/// any I/O. The handler gets the signal's number (the relay reloads on SIGHUP; the others stop).
/// `block()` must run before any thread starts: threads inherit the blocked mask.
public final class TerminationSignals: IOHandler {
    private let fd: Int32
    private let loop: EventLoop
    private let onSignal: (Int32) -> Void

    public static func block() { vshare_block_termination_signals() }

    public init(loop: EventLoop, onSignal: @escaping (Int32) -> Void) throws(SystemError) {
        fd = vshare_termination_signalfd()
        guard fd >= 0 else { throw SystemError("signalfd") }
        self.loop = loop
        self.onSignal = onSignal
        try loop.register(fd: fd, interest: IOInterest.read, handler: self)
    }

    public func handleIO(events: UInt32) {
        let signal = vshare_read_signalfd(fd)
        if signal > 0 { onSignal(signal) }
    }
}
