import COpenSSL

/// Reads OpenSSL's thread-local error queue into a readable string (and empties it).
public enum OpenSSLError {
    public static func drain(whenEmpty: String = "no OpenSSL error recorded") -> String {
        var messages: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(stringFromCBuffer(buffer))
        }
        return messages.isEmpty ? whenEmpty : messages.joined(separator: "; ")
    }
}
