/// Log rows packed as bytes into one fixed buffer: how rows cross from the threads that log to the
/// writer's thread.
///
/// An access-log row is taken once per proxied request on an event loop. Queued as a `LogRow` it
/// kept its six Strings alive until the writer released them on its own thread (a retain there, a
/// free into the loop's malloc arena under that arena's lock); packed, the loop copies the bytes
/// once into memory allocated at start, and the writer binds them to SQLite straight from here
/// (SQLITE_STATIC: no copy, no allocation on either side).
///
/// A row is its kind (one byte) and its fields in the order of its table's INSERT parameters, each
/// a tag byte and a value: 0 NULL, 1 an Int64 (8 bytes, native order: the bytes never leave the
/// process), 2 text (a UInt32 length and the UTF-8 bytes).
final class PackedRows {
    enum Kind: UInt8, CaseIterable {
        case access = 0, audit, connectSession, sshEvent

        /// Fields per row: the INSERT's parameter count (LogInserter).
        var fieldCount: Int {
            switch self {
            case .access: return 11
            case .audit: return 5
            case .connectSession, .sshEvent: return 4
            }
        }
    }

    /// One field as the writer binds it; text points into the buffer until it is cleared.
    enum Field {
        case null
        case integer(Int64)
        case text(UnsafeRawBufferPointer)
    }

    let capacity: Int
    private let storage: UnsafeMutableRawPointer
    private(set) var used = 0
    private(set) var rows = 0

    init(capacity: Int) {
        self.capacity = capacity
        storage = UnsafeMutableRawPointer.allocate(byteCount: max(capacity, 1), alignment: 8)
    }

    deinit { storage.deallocate() }

    var isEmpty: Bool { rows == 0 }

    func removeAll() {
        used = 0
        rows = 0
    }

    /// Packs a row; false (and nothing written) when it does not fit in what is left. `size` is exact:
    /// a tag and 8 bytes per integer, a tag, 4 bytes and the text per string, a tag per NULL.
    func append(_ row: LogRow) -> Bool {
        switch row {
        case let .access(entry):
            let size = 1 + 4 * 9 + Self.size(entry.share) + Self.size(entry.client) + Self.size(entry.method) + Self.size(entry.path)
                + Self.size(entry.userAgent)
                + (entry.refusalReason.map(Self.size) ?? 1) + (entry.aborted.map(Self.size) ?? 1)
            guard used + size <= capacity else { return false }
            put(.access)
            put(entry.share); put(entry.time.unixMilliseconds); put(entry.client); put(entry.method); put(entry.path)
            put(Int64(entry.status)); put(entry.bytes); put(entry.durationMilliseconds); put(entry.userAgent); put(entry.refusalReason)
            put(entry.aborted)
        case let .audit(entry):
            let size = 1 + 9 + Self.size(entry.actor) + Self.size(entry.action) + Self.size(entry.subject) + Self.size(entry.detail)
            guard used + size <= capacity else { return false }
            put(.audit)
            put(entry.time.unixMilliseconds); put(entry.actor); put(entry.action); put(entry.subject); put(entry.detail)
        case let .connectSession(entry):
            let size = 1 + 2 * 9 + Self.size(entry.share) + Self.size(entry.client)
            guard used + size <= capacity else { return false }
            put(.connectSession)
            put(entry.share); put(entry.client); put(entry.startedAt.unixMilliseconds); put(entry.endedAt?.unixMilliseconds)
        case let .sshEvent(entry):
            let size = 1 + 9 + Self.size(entry.share) + Self.size(entry.client) + Self.size(entry.kind.rawValue)
            guard used + size <= capacity else { return false }
            put(.sshEvent)
            put(entry.share); put(entry.time.unixMilliseconds); put(entry.client); put(entry.kind.rawValue)
        }
        rows += 1
        return true
    }

    // MARK: Reading (the writer's thread)

    /// Where a row starts; rows are read in order from `start`.
    struct Cursor {
        fileprivate(set) var offset = 0
    }

    var start: Cursor { Cursor() }

    /// The kind of the row at `cursor`, nil past the last row; the cursor moves to its first field.
    func nextKind(_ cursor: inout Cursor) -> Kind? {
        guard cursor.offset < used else { return nil }
        defer { cursor.offset += 1 }
        // Only `put(_: Kind)` writes this byte.
        return Kind(rawValue: storage.load(fromByteOffset: cursor.offset, as: UInt8.self))!
    }

    /// The field at `cursor`; the cursor moves past it.
    func nextField(_ cursor: inout Cursor) -> Field {
        let tag = storage.load(fromByteOffset: cursor.offset, as: UInt8.self)
        cursor.offset += 1
        switch tag {
        case 1:
            defer { cursor.offset += 8 }
            return .integer(storage.loadUnaligned(fromByteOffset: cursor.offset, as: Int64.self))
        case 2:
            let count = Int(storage.loadUnaligned(fromByteOffset: cursor.offset, as: UInt32.self))
            defer { cursor.offset += 4 + count }
            return .text(UnsafeRawBufferPointer(start: storage + cursor.offset + 4, count: count))
        default:
            return .null
        }
    }

    // MARK: Writing

    /// A text field's bytes (not variadic: that would allocate an array per row).
    private static func size(_ text: String) -> Int { 5 + text.utf8.count }

    private func put(_ kind: Kind) {
        storage.storeBytes(of: kind.rawValue, toByteOffset: used, as: UInt8.self)
        used += 1
    }

    private func put(_ value: Int64?) {
        guard let value else { return putNull() }
        storage.storeBytes(of: 1, toByteOffset: used, as: UInt8.self)
        storage.storeBytes(of: value, toByteOffset: used + 1, as: Int64.self)
        used += 9
    }

    private func put(_ text: String?) {
        guard var text else { return putNull() }
        storage.storeBytes(of: 2, toByteOffset: used, as: UInt8.self)
        text.withUTF8 { bytes in
            storage.storeBytes(of: UInt32(bytes.count), toByteOffset: used + 1, as: UInt32.self)
            if let base = bytes.baseAddress { (storage + used + 5).copyMemory(from: base, byteCount: bytes.count) }
            used += 5 + bytes.count
        }
    }

    private func putNull() {
        storage.storeBytes(of: 0, toByteOffset: used, as: UInt8.self)
        used += 1
    }
}
