/// The session cookie: only the session id, never readable by scripts (HttpOnly), never sent by
/// another site's page (SameSite=Strict), and only over TLS when the interface is served over TLS.
public enum AdminCookie {
    public static let name = "vshare_session"

    /// `Set-Cookie` value that stores `sessionID`.
    public static func setting(_ sessionID: String, secure: Bool) -> String {
        "\(name)=\(sessionID); \(attributes(secure: secure))"
    }

    /// `Set-Cookie` value that makes the browser forget the cookie (logout).
    public static func clearing(secure: Bool) -> String {
        "\(name)=; Max-Age=0; \(attributes(secure: secure))"
    }

    private static func attributes(secure: Bool) -> String {
        "HttpOnly; SameSite=Strict; Path=/" + (secure ? "; Secure" : "")
    }

    /// The session id in a `Cookie` request header (`a=1; vshare_session=ID`), if any.
    public static func sessionID(fromCookieHeader header: String?) -> String? {
        guard let header else { return nil }
        for pair in header.split(separator: ";") {
            let trimmed = pair.drop { $0 == " " }
            guard let equals = trimmed.firstIndex(of: "=") else { continue }
            if trimmed[..<equals] == name {
                let value = String(trimmed[trimmed.index(after: equals)...])
                return value.isEmpty ? nil : value
            }
        }
        return nil
    }
}
