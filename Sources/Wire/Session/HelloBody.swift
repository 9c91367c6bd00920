import Foundation

/// The JSON body of a HELLO frame: who is speaking. The protocol version travels in the frame itself.
public struct HelloBody: Codable, Equatable, Sendable {
    public enum Role: String, Codable, Sendable { case relay, share, connect }
    public var role: Role
    public var software: String
    /// The sender's per-stream receive window in bytes: the peer's initial send credit per stream.
    public var window: UInt32?
    /// A peer's end-to-end HELLO: the IP it gives the shared machine (the agent's packet stack
    /// answers for it).
    public var machineAddress: String?
    /// End to end only. From the agent: the ID (64 hex digits, random) under which this session's
    /// packet stack waits for the peer if the link breaks. From a peer that rejoins: the ID of the
    /// session it wants back. Said only inside the TLS keyed from the connect code.
    public var resume: String?
    /// The agent's answer to a peer that named `resume`: true when it got its session back.
    public var resumed: Bool?

    public init(role: Role, software: String = "vshare/\(VShareVersion.string)", window: UInt32? = nil,
                machineAddress: String? = nil, resume: String? = nil, resumed: Bool? = nil) {
        self.role = role
        self.software = software
        self.window = window
        self.machineAddress = machineAddress
        self.resume = resume
        self.resumed = resumed
    }

    /// Windows a peer may announce: below 64 KiB a stream crawls, above 1 GiB memory is at risk.
    public static let windowRange: ClosedRange<UInt32> = (64 << 10)...(1 << 30)

    public func encoded() -> [UInt8] { (try? [UInt8](JSONEncoder().encode(self))) ?? [] }

    public static func decode(_ bytes: [UInt8]) -> HelloBody? {
        try? JSONDecoder().decode(HelloBody.self, from: Data(bytes))
    }
}

public enum VShareVersion {
    public static let string = "0.1.0"
}
