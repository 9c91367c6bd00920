import Wire

/// Merges consecutive `.data` events of one stream into one. The mux hands a DATA frame out in
/// pieces when reads cut it, so two event lists mean the same bytes when their joined forms match.
public func joiningData(_ events: [MuxEvent]) -> [MuxEvent] {
    var out: [MuxEvent] = []
    for event in events {
        if case .data(let s, let more) = event, case .data(let last, let bytes)? = out.last, last == s {
            out[out.count - 1] = .data(stream: s, bytes + more)
        } else {
            out.append(event)
        }
    }
    return out
}
