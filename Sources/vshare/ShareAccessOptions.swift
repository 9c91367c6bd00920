import Wire

/// `vshare share --basic-auth USER:PASS --allow-ip CIDR[,CIDR...]`: the public URL's access rules.
extension ShareCommand {
    static let accessUsage = """
      --basic-auth USER:PASS  the public URL asks browsers for this user and password (the relay keeps
                          only a salted scrypt hash and strips the header before the machine);
                          HTTP only, so not with --https (the relay never decrypts passthrough TLS)
      --allow-ip CIDR[,CIDR...]  only these client addresses reach the public URLs (IPv4 or IPv6; a bare
                          address is one host; repeatable); others get 403, HTTPS connections are closed
    """

    static func basicAuth(_ parsed: ArgumentScanner.Parsed) throws(ArgumentScanner.UsageError) -> BasicAuthorization? {
        guard let text = parsed.last("basic-auth") else { return nil }
        // The user id ends at the first colon (RFC 7617); the password may hold colons.
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex, text.index(after: colon) != text.endIndex else {
            throw .init("--basic-auth needs USER:PASS, a user name and a password separated by a colon, like --basic-auth alice:s3cret")
        }
        let user = String(text[..<colon])
        guard user.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
            throw .init("--basic-auth: the user name must not contain control characters")
        }
        guard parsed.last("https") == nil else {
            throw .init("--basic-auth protects the HTTP URL only: the relay passes HTTPS through without decrypting it and cannot ask for a password there. Drop --https, or protect it with --allow-ip")
        }
        return BasicAuthorization(user: user, password: Array(text[text.index(after: colon)...].utf8))
    }

    static func allowIP(_ parsed: ArgumentScanner.Parsed) throws(ArgumentScanner.UsageError) -> [IPNetwork] {
        var networks: [IPNetwork] = []
        for list in parsed.all("allow-ip") {
            do {
                for network in try IPNetwork.parseList(list) where !networks.contains(network) { networks.append(network) }
            } catch {
                throw .init("--allow-ip: \(error)")
            }
        }
        return networks
    }
}
