/// Text that came from elsewhere (the relay, a peer: an error's reason, a share name, a URL) made
/// safe to print on a terminal. A relay, or whoever stands in for it, must not be able to send
/// escape sequences that move the cursor, rewrite lines already printed, set the window title
/// or answer back through the terminal, nor bidirectional overrides that show text in another
/// order than it is. Each such character becomes U+FFFD (visible, so nothing is hidden).
public enum TerminalText {
    public static func sanitized(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isUnsafe) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars { out.append(isUnsafe(scalar) ? "\u{FFFD}" : scalar) }
        return String(out)
    }

    /// The same characters written as `%XX` (or `%u{XXXX}` beyond a byte) instead: for text a reader
    /// may want back exactly, like a request path in an access log.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isUnsafe) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            guard isUnsafe(scalar) else { out.append(scalar); continue }
            let hex = String(scalar.value, radix: 16, uppercase: true)
            let code = scalar.value < 0x100 ? "%" + (hex.count < 2 ? "0" + hex : hex) : "%u{\(hex)}"
            out.append(contentsOf: code.unicodeScalars)
        }
        return String(out)
    }

    /// C0 controls (ESC among them; also tab and newline: one message is one line), DEL, C1
    /// controls (0x9B is a one-byte CSI), and the bidirectional marks, embeddings, overrides and
    /// isolates.
    static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: return true
        case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }
}
