import Console
import Glibc
import SSHKeys
import Transport

/// Secret input: SSH sharing's passwords and connect codes. On a terminal: the prompt and the typed
/// characters go through /dev/tty with echo off (and Ctrl-C read as a character, since the process
/// blocks SIGINT for its event loop). Otherwise the secret is the first line of standard input, read
/// byte by byte so the rest of standard input stays for ssh. Passwords live in a `[UInt8]` the caller wipes.
enum PasswordPrompt {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static var isInteractive: Bool { isatty(0) == 1 }

    /// `connect --ssh`: one password.
    static func ask(_ prompt: String) throws(Failure) -> [UInt8] {
        if isInteractive { return try readFromTerminal(prompt) }
        Console.status(prompt)
        guard let password = firstLineOfStandardInput() else { throw noPassword }
        return password
    }

    /// `connect`: the connect code, typed without echo on a terminal, otherwise the first line of
    /// standard input (no prompt printed). nil: standard input ended before its first line, so no
    /// code was given (as when it is /dev/null).
    static func connectCode() throws(Failure) -> String? {
        var typed: [UInt8]
        if isInteractive {
            typed = try readFromTerminal("Connect code:")
        } else {
            guard let line = firstLineOfStandardInput() else { return nil }
            typed = line
        }
        defer { Secret.wipe(&typed) }
        return String(decoding: typed, as: UTF8.self)
    }

    /// `share --ssh`: a new password, typed twice on a terminal (a mismatch asks again); from
    /// standard input's first line otherwise (both prompts are shown, the line is read once).
    static func newPassword() throws(Failure) -> [UInt8] {
        let first = "Please enter a password to encrypt the key:", again = "Repeat the password to confirm:"
        guard isInteractive else {
            Console.status(first)
            Console.status(again)
            guard let password = firstLineOfStandardInput() else { throw noPassword }
            guard !password.isEmpty else { throw Failure(description: "the password (the first line of standard input) is empty; the key needs one") }
            return password
        }
        while true {
            var one = try readFromTerminal(first)
            if one.isEmpty {
                Console.status("The password must not be empty.")
                continue
            }
            var two = try readFromTerminal(again)
            if one == two {
                Secret.wipe(&two)
                return one
            }
            Secret.wipe(&one)
            Secret.wipe(&two)
            Console.status("The passwords do not match; please try again.")
        }
    }

    private static let noPassword = Failure(description: "no password: standard input ended before its first line")

    /// nil: standard input ended before anything was read.
    private static func firstLineOfStandardInput() -> [UInt8]? {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let n = read(0, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                if line.isEmpty { return nil }
                break
            }
            if byte == UInt8(ascii: "\n") { break }
            line.append(byte)
        }
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        return line
    }

    private static func readFromTerminal(_ prompt: String) throws(Failure) -> [UInt8] {
        let tty = open("/dev/tty", O_RDWR | O_CLOEXEC)
        let fd = tty >= 0 ? tty : 0
        defer { if tty >= 0 { close(tty) } }
        var saved = termios()
        let canRestore = tcgetattr(fd, &saved) == 0
        if canRestore {
            var raw = saved
            raw.c_lflag &= ~tcflag_t(ECHO | ICANON | ISIG)
            withUnsafeMutableBytes(of: &raw.c_cc) { $0[Int(VMIN)] = 1; $0[Int(VTIME)] = 0 }
            tcsetattr(fd, TCSANOW, &raw)   // before the prompt: what is typed after it is never echoed
        }
        write(fd, prompt + " ")
        defer {
            if canRestore { tcsetattr(fd, TCSANOW, &saved) }
            write(fd, "\n")
        }
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let n = read(fd, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            switch byte {
            case 0x0a, 0x0d: return line
            case 0x03: Secret.wipe(&line); throw Failure(description: "cancelled")
            case 0x04: if line.isEmpty { throw Failure(description: "cancelled") }
            case 0x7f, 0x08: if !line.isEmpty { line[line.count - 1] = 0; line.removeLast() }
            case 0x15: Secret.wipe(&line); line.removeAll()   // Ctrl-U
            default: line.append(byte)
            }
        }
        return line
    }

    private static func write(_ fd: Int32, _ text: String) {
        var text = text
        text.withUTF8 { _ = Glibc.write(fd, $0.baseAddress, $0.count) }
    }
}
