//! Upper bounds of the audit log, tied together at compile time.

/// Largest canonical encoding of one entry. tlog-tiles entry bundles prefix each entry with
/// a big-endian uint16 length, so nothing longer can be served; we refuse it at append time.
pub const ENTRY_BYTES_MAX: usize = 65_535;
/// Deepest nesting of arrays and objects in an entry body; the encoder recurses over it.
pub const BODY_DEPTH_MAX: usize = 16;
/// Entries one `append` call takes (one caller's transaction).
pub const APPEND_BATCH_MAX: usize = 1_024;
/// Entries one read returns (a page of `ListEntries`, a chunk of an export).
pub const READ_PAGE_MAX: usize = 1_000;
/// Stored hashes one SELECT asks for; a proof or a tile needs far fewer (a full tile 256).
pub const HASH_READ_MAX: usize = 4_096;
/// Log height in tlog-tiles: 256 hashes per full tile (c2sp.org/tlog-tiles fixes it).
pub const TILE_HEIGHT: u8 = 8;
pub const TILE_WIDTH: u64 = 1 << TILE_HEIGHT;
/// Longest origin line we accept (c2sp.org/tlog-checkpoint names it by URL-like text).
pub const ORIGIN_LENGTH_MAX: usize = 255;
/// Entries the offline verifier holds hashes for (about 64 bytes each in memory).
pub const VERIFY_ENTRIES_MAX: u64 = 50_000_000;

const _: () = assert!(ENTRY_BYTES_MAX <= u16::MAX as usize);
const _: () = assert!(HASH_READ_MAX >= TILE_WIDTH as usize);
const _: () = assert!(READ_PAGE_MAX <= APPEND_BATCH_MAX);
