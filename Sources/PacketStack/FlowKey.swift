/// A flow's identity: peer address and port, machine port (protocol is per table).
struct FlowKey: Hashable {
    var peer: UInt32
    var peerPort: UInt16
    var port: UInt16
}
