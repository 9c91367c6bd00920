// Small HTML error pages the relay answers with itself (unknown share, bad request, 502...).

public enum HTTPErrorPage {
    /// A complete HTTP/1.1 response: status line, Content-Type text/html; charset=utf-8,
    /// Content-Length, Cache-Control: no-store, `Connection: close` when `close` is set, and
    /// a small HTML body, after `extraHeaders` (a 401's challenge). `title` and `message` are HTML-escaped.
    public static func response(status: Int, title: String, message: String, close: Bool,
                                extraHeaders: HTTPHeaders = HTTPHeaders()) -> [UInt8] {
        let body = """
        <!DOCTYPE html>
        <html><head><meta charset="utf-8"><title>\(status) \(HTMLText.escape(title))</title></head>
        <body><h1>\(status) \(HTMLText.escape(title))</h1><p>\(HTMLText.escape(message))</p><hr><p>vshare relay</p></body></html>

        """
        var head = HTTPResponseHead(status: status, reason: reasonPhrase(for: status), headers: extraHeaders)
        head.headers.add(name: "Content-Type", value: "text/html; charset=utf-8")
        head.headers.add(name: "Content-Length", value: String(body.utf8.count))
        head.headers.add(name: "Cache-Control", value: "no-store")
        if close { head.headers.add(name: "Connection", value: "close") }
        return head.serialized() + Array(body.utf8)
    }

    public static func reasonPhrase(for status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 301: return "Moved Permanently"
        case 302: return "Found"
        case 303: return "See Other"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 413: return "Content Too Large"
        case 421: return "Misdirected Request"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        case 505: return "HTTP Version Not Supported"
        default: return "Error"
        }
    }
}
