/// Schema version 3: an access-log row says whether its response reached its end. The relay's text
/// log marked a response the client abandoned, or the machine or the relay cut, with `aborted=`; the
/// row had no place for it, so the web interface and the API showed such a download as a complete
/// 200. Rows written before keep NULL: which of them were cut short is not known.
enum SchemaV3 {
    static let migration = Migration(version: 3, sql: """
        ALTER TABLE access_log ADD COLUMN aborted TEXT;  -- who cut the response short (client, machine, relay), NULL if it completed
        """)
}
