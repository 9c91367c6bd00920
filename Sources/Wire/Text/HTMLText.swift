/// The one HTML escaper: every piece of text the relay puts into a page (its error pages, the web
/// interface) goes through `escape`, so a share name or a request path such as
/// `/<img src=x onerror=alert(1)>` always shows as text and never becomes markup.
public enum HTMLText {
    /// Escapes the five characters that can end text or an attribute value (quoted either way).
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}
