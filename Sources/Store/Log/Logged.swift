/// A log row read back with its row id: the id is the cursor the interface pages by (`before`) and
/// polls from (`after`), since ids only grow while times from different loops may tie or cross.
public struct Logged<Entry: Sendable & Equatable>: Sendable, Equatable {
    public let id: Int64
    public let entry: Entry

    public init(id: Int64, entry: Entry) {
        self.id = id
        self.entry = entry
    }
}
