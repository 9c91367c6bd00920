import Foundation

/// An OPEN frame's JSON body: which service of the shared machine the new stream is for.
/// The share agent maps services to its own configured ports; it never takes an address from the peer.
/// From the relay come `http`, `https` and `ssh`; `tcp` (any port the share's connect scope allows)
/// comes only from a peer inside its end-to-end session.
public struct OpenRequest: Codable, Equatable, Sendable {
    public enum Service: String, Codable, Sendable, CaseIterable { case http, https, ssh, tcp }
    public var service: Service
    /// Only for `.tcp`: the port on the shared machine.
    public var port: UInt16?
    /// The original client, for logs and X-Forwarded-For.
    public var client: String?
    /// The opener wants to hear when the far end is dialed (`MuxEvent.connected`) before it
    /// answers its own client (a SOCKS CONNECT reply), so a refused port is reported as refused.
    public var confirm: Bool?

    public init(service: Service, port: UInt16? = nil, client: String? = nil, confirm: Bool? = nil) {
        self.service = service
        self.port = port
        self.client = client
        self.confirm = confirm
    }

    public func encoded() -> [UInt8] { (try? [UInt8](JSONEncoder().encode(self))) ?? [] }

    public static func decode(_ bytes: [UInt8]) -> OpenRequest? {
        try? JSONDecoder().decode(OpenRequest.self, from: Data(bytes))
    }
}
