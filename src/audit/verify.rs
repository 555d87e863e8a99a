//! `kakehashi audit verify DIR --key VKEY`: checks an export offline, from its files and the
//! verifier key alone, and names the first thing wrong.
//!
//! 1. `DIR/checkpoint` must carry a valid signature by the key, for the key's origin.
//! 2. Every tile of that tree must be present and whole (a cut tile is named).
//! 3. The level-0 hash tiles must reproduce the signed root, and every higher tile must be
//!    what they imply; then they are authentic, and each entry is compared with its leaf,
//!    naming the first altered, missing, inserted or reordered entry by index. If the tiles
//!    do not reproduce the root but the entries do, the first altered tile is named.
//! 4. Every kept checkpoint must be signed by the key and consistent with the latest one
//!    (an RFC 6962 consistency proof, computed and checked).
//! 5. Nothing else may sit under `DIR/tile/`.
use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::path::Path;

use tlog_tiles::{Hash, prove_tree, tree_hash};

use super::checkpoint::{CheckpointError, SignedCheckpoint, check_consistency, verify};
use super::entry::leaf_hash;
use super::limits::VERIFY_ENTRIES_MAX;
use super::tiles::{TileError, TileId, hash_tile_bytes, split_bundle, split_hash_tile};
use super::tree::MemoryHashes;

/// Files looked at under `DIR/tile` and `DIR/checkpoints` beyond the expected ones.
const EXTRA_FILES_MAX: usize = 10_000;

/// A folder that verified.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyReport {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    pub checkpoints: usize,
    pub tiles: usize,
}

/// The first problem found, named by file and, for entries, by log index.
#[derive(Debug, thiserror::Error)]
pub enum VerifyFailure {
    #[error("{path}: {source}")]
    Checkpoint {
        path: String,
        source: CheckpointError,
    },
    #[error("the checkpoint's tree has {0} entries, more than this verifier holds")]
    TooLarge(u64),
    #[error("{path}: missing")]
    MissingFile { path: String },
    #[error("{path}: cannot be read: {detail}")]
    Unreadable { path: String, detail: String },
    #[error("{path}: truncated: {found} bytes, a tile of {width} hashes has {expected}")]
    TruncatedTile {
        path: String,
        found: usize,
        width: u32,
        expected: usize,
    },
    #[error("{path}: truncated at its entry {position} (entry {index} of the log)")]
    TruncatedBundle {
        path: String,
        position: usize,
        index: u64,
    },
    #[error("{path}: differs from what the entries and lower tiles imply")]
    TileAltered { path: String },
    #[error("entry {index} ({path}) was altered: its hash is not the signed tree's leaf")]
    EntryAltered { index: u64, path: String },
    #[error("entry {index} ({path}) is missing: the entries from there on are shifted back")]
    EntryMissing { index: u64, path: String },
    #[error("an entry was inserted at index {index} ({path}): the signed tree has no such entry")]
    EntryInserted { index: u64, path: String },
    #[error("entry {index} ({path}) is out of order: it is entry {belongs_at} of the signed tree")]
    EntryReordered {
        index: u64,
        path: String,
        belongs_at: u64,
    },
    #[error("neither the hash tiles nor the entries reproduce the signed root of size {size}")]
    RootMismatch { size: u64 },
    #[error("{path}: not consistent with the latest checkpoint (size {latest}): {detail}")]
    Inconsistent {
        path: String,
        latest: u64,
        detail: String,
    },
    #[error("{path}: not part of an export of a tree of size {size}")]
    UnexpectedFile { path: String, size: u64 },
}

/// Verifies the export in `dir` against the verifier key `verifier_key`.
pub fn verify_dir(dir: &Path, verifier_key: &str) -> Result<VerifyReport, VerifyFailure> {
    let latest = read_checkpoint(dir, "checkpoint", verifier_key)?;
    if latest.size > VERIFY_ENTRIES_MAX {
        return Err(VerifyFailure::TooLarge(latest.size));
    }
    let tiles = TileId::for_tree(latest.size);
    let (hash_files, bundles) = read_tiles(dir, &tiles)?;
    let leaves: Vec<Hash> = hash_files
        .iter()
        .filter(|(t, _)| matches!(t, TileId::Hash { level: 0, .. }))
        .flat_map(|(_, hashes)| hashes.iter().copied())
        .collect();
    let from_tiles = tree_of(&leaves)?;
    let entry_hashes = bundles;
    let hashes_only: Vec<Hash> = entry_hashes.iter().map(|(_, _, h)| *h).collect();
    let tiles_authentic = root_of(&from_tiles, latest.size)? == latest.root;
    let authentic = if tiles_authentic {
        first_tile_differing(&hash_files, &from_tiles)?
            .map_or(Ok(()), |path| Err(VerifyFailure::TileAltered { path }))?;
        compare_entries(&entry_hashes, &leaves)?;
        from_tiles
    } else {
        let from_entries = tree_of(&hashes_only)?;
        let entries_authentic = hashes_only.len() as u64 == latest.size
            && root_of(&from_entries, latest.size)? == latest.root;
        if entries_authentic {
            let path = first_tile_differing(&hash_files, &from_entries)?
                .unwrap_or_else(|| "tile/0".to_owned());
            return Err(VerifyFailure::TileAltered { path });
        }
        compare_entries(&entry_hashes, &leaves)?;
        return Err(VerifyFailure::RootMismatch { size: latest.size });
    };
    let checkpoints = check_kept_checkpoints(dir, verifier_key, &latest, &authentic)?;
    check_no_extra_files(dir, &tiles, latest.size)?;
    Ok(VerifyReport {
        origin: latest.origin,
        size: latest.size,
        root: latest.root,
        checkpoints,
        tiles: tiles.len(),
    })
}

fn read_checkpoint(
    dir: &Path,
    name: &str,
    verifier_key: &str,
) -> Result<SignedCheckpoint, VerifyFailure> {
    let note = read_file(dir, name)?;
    verify(&note, verifier_key).map_err(|source| VerifyFailure::Checkpoint {
        path: name.to_owned(),
        source,
    })
}

fn read_file(dir: &Path, relative: &str) -> Result<Vec<u8>, VerifyFailure> {
    fs::read(dir.join(relative)).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => VerifyFailure::MissingFile {
            path: relative.to_owned(),
        },
        _ => VerifyFailure::Unreadable {
            path: relative.to_owned(),
            detail: e.to_string(),
        },
    })
}

type HashFiles = Vec<(TileId, Vec<Hash>)>;
type EntryHashes = Vec<(u64, String, Hash)>;

/// Reads every expected tile: hash tiles as hashes, bundles as (index, path, leaf hash).
fn read_tiles(dir: &Path, tiles: &[TileId]) -> Result<(HashFiles, EntryHashes), VerifyFailure> {
    let mut hash_files = Vec::new();
    let mut entries = Vec::new();
    for tile in tiles {
        let path = tile.path();
        let bytes = read_file(dir, &path)?;
        match tile {
            TileId::Hash { width, .. } => {
                let expected = *width as usize * tlog_tiles::HASH_SIZE;
                match split_hash_tile(&bytes).filter(|h| h.len() == *width as usize) {
                    Some(hashes) => hash_files.push((*tile, hashes)),
                    None => {
                        return Err(VerifyFailure::TruncatedTile {
                            path,
                            found: bytes.len(),
                            width: *width,
                            expected,
                        });
                    }
                }
            }
            TileId::Entries { .. } => {
                let first = tile.first_record();
                let list = split_bundle(&bytes).map_err(|e| match e {
                    TileError::TruncatedBundle { position } => VerifyFailure::TruncatedBundle {
                        path: path.clone(),
                        position,
                        index: first + position as u64,
                    },
                    other => VerifyFailure::Unreadable {
                        path: path.clone(),
                        detail: other.to_string(),
                    },
                })?;
                for (i, entry) in list.iter().enumerate() {
                    entries.push((first + i as u64, path.clone(), leaf_hash(entry)));
                }
            }
        }
    }
    Ok((hash_files, entries))
}

fn tree_of(leaves: &[Hash]) -> Result<MemoryHashes, VerifyFailure> {
    let mut tree = MemoryHashes::default();
    for leaf in leaves {
        tree.push(*leaf).map_err(|e| VerifyFailure::Unreadable {
            path: "tile/0".into(),
            detail: e.to_string(),
        })?;
    }
    Ok(tree)
}

fn root_of(tree: &MemoryHashes, size: u64) -> Result<Hash, VerifyFailure> {
    if tree.records() < size {
        return Ok(Hash([0; 32]));
    }
    tree_hash(size, tree).map_err(|e| VerifyFailure::Unreadable {
        path: "tile/0".into(),
        detail: e.to_string(),
    })
}

/// The first hash tile whose bytes differ from those `tree` implies.
fn first_tile_differing(
    files: &HashFiles,
    tree: &MemoryHashes,
) -> Result<Option<String>, VerifyFailure> {
    for (tile, hashes) in files {
        let Ok(expected) = hash_tile_bytes(*tile, tree) else {
            return Ok(Some(tile.path()));
        };
        let found: Vec<u8> = hashes.iter().flat_map(|h| h.0).collect();
        if found != expected {
            return Ok(Some(tile.path()));
        }
    }
    Ok(None)
}

/// Compares the entries' hashes with the signed tree's leaves and names the first
/// difference: a shift back is a missing entry, a shift forward an inserted one, a hash
/// found elsewhere in the tree a reordering, anything else an alteration.
fn compare_entries(entries: &EntryHashes, leaves: &[Hash]) -> Result<(), VerifyFailure> {
    let first = entries
        .iter()
        .zip(leaves)
        .position(|((_, _, e), l)| e != l)
        .or_else(|| (entries.len() != leaves.len()).then(|| entries.len().min(leaves.len())));
    let Some(i) = first else { return Ok(()) };
    let index = i as u64;
    let Some((_, path, hash)) = entries.get(i) else {
        let path = entries
            .last()
            .map_or_else(|| "tile/entries".into(), |e| e.1.clone());
        return Err(VerifyFailure::EntryMissing { index, path });
    };
    let path = path.clone();
    if leaves.get(i + 1) == Some(hash) && entries.len() < leaves.len() {
        return Err(VerifyFailure::EntryMissing { index, path });
    }
    if i >= leaves.len()
        || (entries.len() > leaves.len()
            && entries.get(i + 1).map(|e| e.2) == leaves.get(i).copied())
    {
        return Err(VerifyFailure::EntryInserted { index, path });
    }
    let positions: HashMap<[u8; 32], u64> = leaves
        .iter()
        .enumerate()
        .map(|(k, h)| (h.0, k as u64))
        .collect();
    match positions.get(&hash.0) {
        Some(&belongs_at) if belongs_at != index => Err(VerifyFailure::EntryReordered {
            index,
            path,
            belongs_at,
        }),
        _ => Err(VerifyFailure::EntryAltered { index, path }),
    }
}

/// Verifies every `DIR/checkpoints/<size>` and its consistency with the latest checkpoint.
fn check_kept_checkpoints(
    dir: &Path,
    verifier_key: &str,
    latest: &SignedCheckpoint,
    tree: &MemoryHashes,
) -> Result<usize, VerifyFailure> {
    let folder = dir.join("checkpoints");
    let names = match fs::read_dir(&folder) {
        Ok(list) => list
            .take(EXTRA_FILES_MAX)
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect::<Vec<String>>(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            return Err(VerifyFailure::Unreadable {
                path: "checkpoints".into(),
                detail: e.to_string(),
            });
        }
    };
    let mut sizes = Vec::new();
    for name in names {
        match name.parse::<u64>() {
            Ok(size) if size.to_string() == name => sizes.push(size),
            _ => {
                return Err(VerifyFailure::UnexpectedFile {
                    path: format!("checkpoints/{name}"),
                    size: latest.size,
                });
            }
        }
    }
    sizes.sort_unstable();
    for size in &sizes {
        let path = format!("checkpoints/{size}");
        let kept = read_checkpoint(dir, &path, verifier_key)?;
        let inconsistent = |detail: String| VerifyFailure::Inconsistent {
            path: path.clone(),
            latest: latest.size,
            detail,
        };
        if kept.size != *size {
            return Err(inconsistent(format!("it names tree size {}", kept.size)));
        }
        if kept.size > latest.size {
            return Err(inconsistent("it is larger than the latest".into()));
        }
        let proof = if kept.size == 0 || kept.size == latest.size {
            Vec::new()
        } else {
            prove_tree(latest.size, kept.size, tree).map_err(|e| inconsistent(e.to_string()))?
        };
        if kept.size == latest.size && kept.root != latest.root {
            return Err(inconsistent("same size, different root".into()));
        }
        check_consistency(&kept, latest, &proof).map_err(|e| inconsistent(e.to_string()))?;
    }
    Ok(sizes.len())
}

/// Refuses files under `DIR/tile` that an export of this size does not have.
fn check_no_extra_files(dir: &Path, tiles: &[TileId], size: u64) -> Result<(), VerifyFailure> {
    let expected: BTreeSet<String> = tiles.iter().map(|t| t.path()).collect();
    let mut pending = vec![dir.join("tile")];
    let mut seen = 0usize;
    while let Some(folder) = pending.pop() {
        let Ok(list) = fs::read_dir(&folder) else {
            continue;
        };
        for item in list.filter_map(|e| e.ok()) {
            seen += 1;
            if seen > expected.len() * 2 + EXTRA_FILES_MAX {
                return Err(VerifyFailure::UnexpectedFile {
                    path: "tile".into(),
                    size,
                });
            }
            let path = item.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let relative = path
                .strip_prefix(dir)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            if !expected.contains(&relative) {
                return Err(VerifyFailure::UnexpectedFile {
                    path: relative,
                    size,
                });
            }
        }
    }
    Ok(())
}
