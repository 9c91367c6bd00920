/// The NUL-terminated string in a C character buffer (decoded as UTF-8, invalid bytes replaced).
public func stringFromCBuffer(_ buffer: [CChar]) -> String {
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}
