//! `kakehashi audit export`: the log as the static tile tree the auditor listener serves
//! (c2sp.org/tlog-tiles), so a folder on a disk and the live server verify alike:
//!
//! ```text
//! DIR/checkpoint                 the latest signed checkpoint
//! DIR/checkpoints/<size>         every kept checkpoint, by tree size
//! DIR/tile/<L>/<N>[.p/<W>]       hash tiles of the latest checkpoint's tree
//! DIR/tile/entries/<N>[.p/<W>]   entry bundles
//! DIR/rules/<version>.json       the routing rule sets the log's decisions name
//! ```
//!
//! [`entries`] reads the entries back in order, for `audit replay` and other tools.
use std::fs;
use std::path::{Path, PathBuf};

use sqlx::AnyPool;

use super::tiles::{TileError, TileId, split_bundle};
use crate::store::StoreError;
use crate::store::audit_sql;

/// Longest rule-set version accepted as a file name.
const RULE_VERSION_LENGTH_MAX: usize = 128;

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    pub size: u64,
    pub checkpoints: usize,
    pub tiles: usize,
    pub rule_sets: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("the log has no checkpoint yet: run the switch (or `audit checkpoint`) first")]
    NoCheckpoint,
    #[error("rule set version `{0}` is not a safe file name")]
    RuleVersion(String),
    #[error("{path} is not a signed tlog checkpoint")]
    Checkpoint { path: String },
    #[error("{path}: {source}")]
    Bundle { path: String, source: TileError },
}

/// Writes the export of the latest checkpoint's tree under `dir` (created if missing).
pub async fn export(pool: &AnyPool, dir: &Path) -> Result<ExportSummary, ExportError> {
    let latest = audit_sql::latest_checkpoint(pool)
        .await?
        .ok_or(ExportError::NoCheckpoint)?
        .checkpoint;
    write(&dir.join("checkpoint"), &latest.note)?;
    let mut checkpoints = 0;
    let mut after = 0;
    loop {
        let page = audit_sql::checkpoints(pool, after).await?;
        let Some(last) = page.last() else { break };
        after = last.checkpoint.size + 1;
        for kept in &page {
            let path = dir
                .join("checkpoints")
                .join(kept.checkpoint.size.to_string());
            write(&path, &kept.checkpoint.note)?;
            checkpoints += 1;
        }
    }
    let tiles = TileId::for_tree(latest.size);
    for tile in &tiles {
        let bytes = audit_sql::tile_bytes(pool, *tile).await?;
        write(&dir.join(tile.path()), &bytes)?;
    }
    let mut rule_sets = 0;
    for set in audit_sql::rule_sets(pool).await?.unwrap_or_default() {
        let safe = !set.version.is_empty()
            && set.version.len() <= RULE_VERSION_LENGTH_MAX
            && set
                .version
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
            && !set.version.starts_with('.');
        if !safe {
            return Err(ExportError::RuleVersion(
                set.version.chars().take(64).collect(),
            ));
        }
        let path = dir.join("rules").join(format!("{}.json", set.version));
        write(&path, set.canonical.as_bytes())?;
        rule_sets += 1;
    }
    Ok(ExportSummary {
        size: latest.size,
        checkpoints,
        tiles: tiles.len(),
        rule_sets,
    })
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    let io = |source| ExportError::Io {
        path: path.display().to_string(),
        source,
    };
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(io)?;
    }
    fs::write(path, bytes).map_err(io)
}

/// The tree size named by an export's `DIR/checkpoint`. The signature is not checked here:
/// `audit verify` does that; readers of a verified export only need the size.
pub fn exported_size(dir: &Path) -> Result<u64, ExportError> {
    let path = dir.join("checkpoint");
    let bytes = fs::read(&path).map_err(|source| ExportError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let bad = || ExportError::Checkpoint {
        path: path.display().to_string(),
    };
    let note = signed_note::Note::from_bytes(&bytes).map_err(|_| bad())?;
    let checkpoint = tlog_tiles::Checkpoint::from_bytes(note.text()).map_err(|_| bad())?;
    Ok(checkpoint.size())
}

/// The entries of an export in log order, as `(index, canonical bytes)`, read one bundle at
/// a time. Verify the folder first (`audit verify`); this reader only checks the framing.
pub fn entries(dir: &Path) -> impl Iterator<Item = Result<(u64, Vec<u8>), ExportError>> {
    let dir: PathBuf = dir.to_owned();
    let bundles: Result<Vec<TileId>, ExportError> = exported_size(&dir).map(|size| {
        TileId::for_tree(size)
            .into_iter()
            .filter(|t| matches!(t, TileId::Entries { .. }))
            .collect()
    });
    let (bundles, failed) = match bundles {
        Ok(bundles) => (bundles, None),
        Err(e) => (Vec::new(), Some(Err(e))),
    };
    failed.into_iter().chain(
        bundles
            .into_iter()
            .flat_map(move |tile| read_bundle(&dir, tile)),
    )
}

fn read_bundle(dir: &Path, tile: TileId) -> Vec<Result<(u64, Vec<u8>), ExportError>> {
    let path = dir.join(tile.path());
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(source) => {
            return vec![Err(ExportError::Io {
                path: path.display().to_string(),
                source,
            })];
        }
    };
    match split_bundle(&bytes) {
        Ok(list) => {
            let first = tile.first_record();
            list.into_iter()
                .enumerate()
                .map(|(i, e)| Ok((first + i as u64, e)))
                .collect()
        }
        Err(source) => vec![Err(ExportError::Bundle {
            path: tile.path(),
            source,
        })],
    }
}
