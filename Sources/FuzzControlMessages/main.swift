// libFuzzer target for the control-message decoder: the JSON bodies of CONTROL frames, and the
// HELLO and OPEN bodies, which every agent and peer sends the relay before anything is checked.
// Decoding may refuse anything but must never crash, and what decodes must encode to bytes that
// decode to the same message (no field is lost or changes meaning on the way through the relay).
//
// Build and run: `FUZZ_SECONDS=60 scripts/fuzz FuzzControlMessages`.
// Seeds: Tests/Fuzz/corpus/control-messages/ (one JSON body each).
import Wire

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    do {
        let message = try ControlMessage.decode(input)
        let again: ControlMessage
        do {
            again = try ControlMessage.decode(message.encoded())
        } catch {
            preconditionFailure("\(message.kind) does not decode once encoded: \(error)")
        }
        precondition(again == message, "\(message.kind) changes when encoded and decoded again")
    } catch {
        _ = error.description
    }
    if let hello = HelloBody.decode(input) {
        precondition(HelloBody.decode(hello.encoded()) == hello, "HELLO changes when encoded and decoded again")
    }
    if let open = OpenRequest.decode(input) {
        precondition(OpenRequest.decode(open.encoded()) == open, "OPEN changes when encoded and decoded again")
    }
    return 0
}
