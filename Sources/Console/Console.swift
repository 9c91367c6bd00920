import Glibc

/// User-facing output in the seed's style (`==> default: ...` headlines, indented details),
/// written with one `write` per line so lines from several threads never interleave.
public enum Console {
    /// `==> <machine>: <text>`
    public static func headline(_ machine: String, _ text: String) { out("==> \(machine): \(text)") }
    /// `    <machine>: <text>`
    public static func detail(_ machine: String, _ text: String) { out("    \(machine): \(text)") }

    public static func out(_ line: String) { write(fd: 1, line) }
    public static func error(_ line: String) { write(fd: 2, line) }

    /// Writes ready-made output (lines with their newlines) to standard output.
    public static func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { write(fd: 1, $0) }
    }

    private static func write(fd: Int32, _ line: String) {
        var text = line
        text.append("\n")
        text.withUTF8 { write(fd: fd, $0) }
    }

    private static func write(fd: Int32, _ bytes: UnsafeBufferPointer<UInt8>) {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n <= 0 { if errno == EINTR { continue }; return }
            offset += n
        }
    }
}
