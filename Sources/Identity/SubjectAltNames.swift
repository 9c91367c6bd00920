import CInterop
import COpenSSL
import CShims
import Glibc
import Wire

/// The ordered, de-duplicated subjectAltName entries for the server certificate
/// (`DNS:localhost`, `IP:127.0.0.1`, then each requested name), in OpenSSL config syntax.
struct SubjectAltNames: Equatable {
    private(set) var entries: [String] = []
    /// The subject CN: the first requested hostname (or `localhost`).
    private(set) var commonName = "localhost"

    init() {}

    init(requested hostnames: [String]) throws {
        append("DNS:localhost")
        append("IP:127.0.0.1")
        var first: String?
        for raw in hostnames {
            var host = String(raw.trimmingASCIIWhitespace())
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            if let ip = IPAddressText.canonical(host) {
                append("IP:" + ip)
                first = first ?? ip
            } else if let dns = Self.validDNSName(host) {
                append("DNS:" + dns)
                first = first ?? dns
            } else {
                throw CertificateAuthorityError.invalidHostname(raw)
            }
        }
        // X.509 caps CN at 64 characters; a longer name still lives in the SANs, which is what clients check.
        if let first, first.utf8.count <= 64 { commonName = first }
    }

    mutating func append(_ entry: String) {
        if !entries.contains(entry) { entries.append(entry) }
    }

    mutating func merge(_ other: SubjectAltNames) {
        for entry in other.entries { append(entry) }
    }

    func contains(all other: SubjectAltNames) -> Bool {
        other.entries.allSatisfy(entries.contains)
    }

    /// Lowercased DNS name if `host` is one (labels of letters, digits, `-`, `_`; optional leading `*.`), else nil.
    static func validDNSName(_ host: String) -> String? {
        var name = host.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        guard !name.isEmpty, name.utf8.count <= 253 else { return nil }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        for (index, label) in labels.enumerated() {
            if index == 0, label == "*", labels.count > 2 { continue }
            guard (1...63).contains(label.utf8.count),
                  label.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 95 }),
                  label.first != "-", label.last != "-"
            else { return nil }
        }
        // An all-numeric dotted name that inet_pton rejected (e.g. 1.2.3) is a typo, not a hostname.
        if labels.last!.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) { return nil }
        return name
    }
}

/// IPv4/IPv6 literal parsing and canonical formatting through inet_pton/inet_ntop.
enum IPAddressText {
    static func canonical(_ text: String) -> String? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { format(Array($0)) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { format(Array($0)) }
        }
        return nil
    }

    static func format(_ bytes: [UInt8]) -> String? {
        let family: Int32
        switch bytes.count {
        case 4: family = AF_INET
        case 16: family = AF_INET6
        default: return nil
        }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let ok = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) != nil }
        return ok ? stringFromCBuffer(buffer) : nil
    }
}
