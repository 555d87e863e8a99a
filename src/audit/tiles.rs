//! c2sp.org/tlog-tiles: tile paths and byte-exact tile contents. A hash tile is its
//! hashes concatenated (32 bytes each); an entry bundle is its entries, each prefixed by
//! its length as a big-endian uint16. Tile height is 8 (256 per full tile), as the spec
//! fixes; `N` is written in groups of three digits, all but the last prefixed with `x`.
use tlog_tiles::{Error, HASH_SIZE, Hash, HashReader, Tile};

use super::limits::{ENTRY_BYTES_MAX, TILE_HEIGHT, TILE_WIDTH};

/// Levels a tree of at most 2^64 records can have tiles at (8 levels of the tree each).
const TILE_LEVELS_MAX: u8 = 8;

/// One tile of the log, as named by its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TileId {
    /// `tile/<L>/<N>[.p/<W>]`: hashes at tree level 8·L, from 256·N, `width` of them.
    Hash { level: u8, index: u64, width: u32 },
    /// `tile/entries/<N>[.p/<W>]`: entries 256·N .. 256·N + width.
    Entries { index: u64, width: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TileError {
    #[error("not a tlog-tiles path")]
    BadPath,
    #[error("{path} is beyond the tree of size {size}")]
    BeyondTree { path: String, size: u64 },
    #[error("entry {position} of a bundle is {length} bytes, over {ENTRY_BYTES_MAX}")]
    EntryTooLarge { position: usize, length: usize },
    #[error("entry {position} of the bundle is cut short")]
    TruncatedBundle { position: usize },
}

// === impl TileId ===

impl TileId {
    /// The path under the log's prefix, without a leading slash.
    pub fn path(&self) -> String {
        let (level, index, width) = match *self {
            TileId::Hash {
                level,
                index,
                width,
            } => (level.to_string(), index, width),
            TileId::Entries { index, width } => ("entries".to_owned(), index, width),
        };
        let mut groups = vec![format!("{:03}", index % 1000)];
        let mut rest = index / 1000;
        while rest > 0 {
            groups.push(format!("x{:03}", rest % 1000));
            rest /= 1000;
        }
        groups.reverse();
        let partial = if u64::from(width) == TILE_WIDTH {
            String::new()
        } else {
            format!(".p/{width}")
        };
        format!("tile/{level}/{}{partial}", groups.join("/"))
    }

    /// Parses a path as `path` writes it and no other spelling, so each tile has one name.
    pub fn parse(path: &str) -> Result<Self, TileError> {
        // The longest valid path: "tile/entries/" + 7 groups + ".p/255".
        if path.len() > 64 {
            return Err(TileError::BadPath);
        }
        let rest = path.strip_prefix("tile/").ok_or(TileError::BadPath)?;
        let (level, rest) = rest.split_once('/').ok_or(TileError::BadPath)?;
        let (digits, width) = match rest.split_once(".p/") {
            Some((digits, width)) => {
                let width: u32 = width.parse().map_err(|_| TileError::BadPath)?;
                (digits, width)
            }
            None => (rest, TILE_WIDTH as u32),
        };
        let mut index: u64 = 0;
        for group in digits.split('/') {
            let group = group.strip_prefix('x').unwrap_or(group);
            let value: u64 = group.parse().map_err(|_| TileError::BadPath)?;
            index = index
                .checked_mul(1000)
                .and_then(|i| i.checked_add(value))
                .ok_or(TileError::BadPath)?;
        }
        if width == 0 || u64::from(width) > TILE_WIDTH {
            return Err(TileError::BadPath);
        }
        let tile = if level == "entries" {
            TileId::Entries { index, width }
        } else {
            let level: u8 = level.parse().map_err(|_| TileError::BadPath)?;
            if level >= TILE_LEVELS_MAX {
                return Err(TileError::BadPath);
            }
            TileId::Hash {
                level,
                index,
                width,
            }
        };
        if tile.path() != path {
            return Err(TileError::BadPath);
        }
        Ok(tile)
    }

    /// Every tile of a tree of `size` records: full tiles and the partial one at the edge
    /// of each level, hash tiles first (level by level), then the entry bundles.
    pub fn for_tree(size: u64) -> Vec<TileId> {
        let hash_tiles: Vec<TileId> = Tile::new_tiles(TILE_HEIGHT, 0, size)
            .into_iter()
            .map(|t| TileId::Hash {
                level: t.level(),
                index: t.level_index(),
                width: t.width(),
            })
            .collect();
        let entries = hash_tiles.iter().filter_map(|t| match *t {
            TileId::Hash {
                level: 0,
                index,
                width,
            } => Some(TileId::Entries { index, width }),
            _ => None,
        });
        let mut all = hash_tiles.clone();
        all.extend(entries);
        all
    }

    /// Whether the tree of `size` records holds everything this tile lists.
    pub fn within(&self, size: u64) -> bool {
        let (level, index, width) = match *self {
            TileId::Hash {
                level,
                index,
                width,
            } => (level, index, width),
            TileId::Entries { index, width } => (0, index, width),
        };
        let hashes_at_level = size >> (u32::from(level) * u32::from(TILE_HEIGHT));
        index
            .checked_mul(TILE_WIDTH)
            .and_then(|first| first.checked_add(u64::from(width)))
            .is_some_and(|end| end <= hashes_at_level)
    }

    /// The record range an entry bundle covers; for a hash tile, its level-0 span.
    pub fn first_record(&self) -> u64 {
        match *self {
            TileId::Hash { level, index, .. } => {
                index.saturating_mul(TILE_WIDTH) << (u32::from(level) * u32::from(TILE_HEIGHT))
            }
            TileId::Entries { index, .. } => index.saturating_mul(TILE_WIDTH),
        }
    }

    pub fn width(&self) -> u32 {
        match *self {
            TileId::Hash { width, .. } | TileId::Entries { width, .. } => width,
        }
    }
}

impl std::fmt::Display for TileId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.path())
    }
}

/// A hash tile's bytes: the `width` hashes at its level, read through `hashes` (one call,
/// so a prefetching reader serves it). `tile` must be a `TileId::Hash`.
pub fn hash_tile_bytes<R: HashReader>(tile: TileId, hashes: &R) -> Result<Vec<u8>, Error> {
    let TileId::Hash {
        level,
        index,
        width,
    } = tile
    else {
        return Err(Error::InvalidTile);
    };
    if level >= TILE_LEVELS_MAX || width == 0 || u64::from(width) > TILE_WIDTH {
        return Err(Error::InvalidTile);
    }
    Tile::new(TILE_HEIGHT, level, index, width, false).read_data(hashes)
}

/// Splits a hash tile's bytes into hashes; `None` unless it is whole 32-byte hashes.
pub fn split_hash_tile(bytes: &[u8]) -> Option<Vec<Hash>> {
    if !bytes.len().is_multiple_of(HASH_SIZE) {
        return None;
    }
    Some(
        bytes
            .chunks_exact(HASH_SIZE)
            .map(|c| {
                let mut h = [0u8; HASH_SIZE];
                h.copy_from_slice(c);
                Hash(h)
            })
            .collect(),
    )
}

/// An entry bundle's bytes: each entry as a big-endian uint16 length and the entry.
pub fn bundle_bytes<E: AsRef<[u8]>>(entries: &[E]) -> Result<Vec<u8>, TileError> {
    let mut out = Vec::new();
    for (position, entry) in entries.iter().enumerate() {
        let entry = entry.as_ref();
        let length = u16::try_from(entry.len()).map_err(|_| TileError::EntryTooLarge {
            position,
            length: entry.len(),
        })?;
        out.extend_from_slice(&length.to_be_bytes());
        out.extend_from_slice(entry);
    }
    Ok(out)
}

/// The entries of a bundle, in order; a length that runs past the end names its entry.
pub fn split_bundle(bytes: &[u8]) -> Result<Vec<Vec<u8>>, TileError> {
    let mut entries = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let position = entries.len();
        let (length, tail) = match rest {
            [a, b, tail @ ..] => (usize::from(u16::from_be_bytes([*a, *b])), tail),
            _ => return Err(TileError::TruncatedBundle { position }),
        };
        if tail.len() < length {
            return Err(TileError::TruncatedBundle { position });
        }
        entries.push(tail[..length].to_vec());
        rest = &tail[length..];
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_spec_examples() {
        let t = TileId::Hash {
            level: 4,
            index: 1_234_067,
            width: 1,
        };
        assert_eq!(t.path(), "tile/4/x001/x234/067.p/1");
        let full = TileId::Hash {
            level: 0,
            index: 1_234_067,
            width: 256,
        };
        assert_eq!(full.path(), "tile/0/x001/x234/067");
        let e = TileId::Entries {
            index: 5,
            width: 17,
        };
        assert_eq!(e.path(), "tile/entries/005.p/17");
        for tile in [t, full, e] {
            assert_eq!(TileId::parse(&tile.path()), Ok(tile));
        }
    }

    #[test]
    fn other_spellings_of_a_tile_are_refused() {
        for bad in [
            "tile/0/5",
            "tile/0/x000/005",
            "tile/0/005.p/256",
            "tile/0/005.p/0",
            "tile/0/005.p/007",
            "tile/8/000",
            "tile/data/000",
            "tile/0/0050",
            "tile/0/x18446744073709551616/000",
            "checkpoint",
        ] {
            assert_eq!(TileId::parse(bad), Err(TileError::BadPath), "{bad}");
        }
    }

    #[test]
    fn a_tree_of_300_has_two_leaf_tiles_one_level_one_tile_and_two_bundles() {
        let paths: Vec<String> = TileId::for_tree(300).iter().map(|t| t.path()).collect();
        assert_eq!(
            paths,
            [
                "tile/0/000",
                "tile/0/001.p/44",
                "tile/1/000.p/1",
                "tile/entries/000",
                "tile/entries/001.p/44"
            ]
        );
        assert!(TileId::parse("tile/0/001.p/44").unwrap().within(300));
        assert!(!TileId::parse("tile/0/001.p/45").unwrap().within(300));
        assert!(!TileId::parse("tile/1/000").unwrap().within(300));
    }

    #[test]
    fn bundles_round_trip_and_a_cut_bundle_names_its_entry() {
        let bytes = bundle_bytes(&[b"ab".to_vec(), Vec::new(), b"xyz".to_vec()]).unwrap();
        assert_eq!(bytes, b"\x00\x02ab\x00\x00\x00\x03xyz");
        assert_eq!(split_bundle(&bytes).unwrap().len(), 3);
        assert_eq!(
            split_bundle(&bytes[..bytes.len() - 1]),
            Err(TileError::TruncatedBundle { position: 2 })
        );
        let huge = vec![0u8; 65_536];
        assert!(matches!(
            bundle_bytes(&[huge]),
            Err(TileError::EntryTooLarge { position: 0, .. })
        ));
    }
}
