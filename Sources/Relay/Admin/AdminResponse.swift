import Wire

/// One answer of the web interface. Every answer carries the same security headers, whatever
/// produced it: the strict policy means a page can run only the interface's own script, load
/// nothing from elsewhere, post forms only to itself, and never be framed.
public struct AdminResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]
    public var headers: [(String, String)]

    public static let contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    public init(status: Int, contentType: String, body: [UInt8], headers: [(String, String)] = []) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.headers = headers
    }

    static func html(_ status: Int, _ page: String, headers: [(String, String)] = []) -> AdminResponse {
        AdminResponse(status: status, contentType: "text/html; charset=utf-8", body: Array(page.utf8), headers: headers)
    }

    static func json(_ status: Int, _ body: [UInt8]) -> AdminResponse {
        AdminResponse(status: status, contentType: "application/json", body: body)
    }

    /// A 303 to `location` (after a form post, so a reload does not post again).
    static func redirect(_ location: String, headers: [(String, String)] = []) -> AdminResponse {
        AdminResponse(status: 303, contentType: "text/plain; charset=utf-8", body: Array("See \(location)\n".utf8),
                      headers: [("Location", location)] + headers)
    }

    /// The response head and body; `includeBody` is false for HEAD. Each connection serves one
    /// request (`Connection: close`): the interface is light, and that keeps the shell simple.
    public func serialized(includeBody: Bool = true) -> [UInt8] {
        var fields = HTTPHeaders()
        fields.add(name: "Content-Type", value: contentType)
        fields.add(name: "Content-Length", value: String(body.count))
        fields.add(name: "Content-Security-Policy", value: Self.contentSecurityPolicy)
        fields.add(name: "X-Content-Type-Options", value: "nosniff")
        fields.add(name: "Referrer-Policy", value: "no-referrer")
        fields.add(name: "Cache-Control", value: "no-store")
        fields.add(name: "X-Frame-Options", value: "DENY")
        fields.add(name: "Connection", value: "close")
        for (name, value) in headers { fields.add(name: name, value: value) }
        let head = HTTPResponseHead(status: status, reason: HTTPErrorPage.reasonPhrase(for: status), headers: fields)
        return head.serialized() + (includeBody ? body : [])
    }
}
