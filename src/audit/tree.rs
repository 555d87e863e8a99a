//! The RFC 6962 tree, through `tlog_tiles`: which stored hashes an operation reads, and
//! `HashReader`s over hashes fetched beforehand, so a database caller makes one SELECT per
//! operation instead of one per hash. The tree math itself is the crate's, never ours.
//!
//! tlog's functions are synchronous and our storage is not, so every read runs twice: once
//! against an [`IndexRecorder`] that notes the indexes asked for (the index math never
//! depends on hash values), then against a [`PrefetchedHashes`] holding exactly those.
use std::cell::RefCell;
use std::collections::HashMap;

use tlog_tiles::{Error, Hash, HashReader, stored_hash_index, stored_hashes_for_record_hash};

/// Stored hashes by index, fetched before a tlog function runs. A missing index is an
/// error, never a guess: the crate would otherwise compute a wrong tree.
#[derive(Debug, Default, Clone)]
pub struct PrefetchedHashes {
    by_index: HashMap<u64, Hash>,
}

/// A first-pass reader: records the indexes asked for and answers with zero hashes.
#[derive(Debug, Default)]
pub struct IndexRecorder {
    indexes: RefCell<Vec<u64>>,
}

/// Every stored hash of a tree held in memory, in stored-hash order: the offline verifier's
/// and the tests' reference reader.
#[derive(Debug, Default, Clone)]
pub struct MemoryHashes {
    hashes: Vec<Hash>,
    records: u64,
}

// === impl PrefetchedHashes ===

impl PrefetchedHashes {
    pub fn new(pairs: impl IntoIterator<Item = (u64, Hash)>) -> Self {
        Self {
            by_index: pairs.into_iter().collect(),
        }
    }

    pub fn insert(&mut self, index: u64, hash: Hash) {
        self.by_index.insert(index, hash);
    }

    pub fn len(&self) -> usize {
        self.by_index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_index.is_empty()
    }
}

impl HashReader for PrefetchedHashes {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Error> {
        indexes
            .iter()
            .map(|i| self.by_index.get(i).copied().ok_or(Error::IndexesNotInTree))
            .collect()
    }
}

// === impl IndexRecorder ===

impl IndexRecorder {
    /// The indexes a tlog function reads, sorted and without repeats.
    pub fn indexes_read_by<T>(
        run: impl FnOnce(&IndexRecorder) -> Result<T, Error>,
    ) -> Result<Vec<u64>, Error> {
        let recorder = IndexRecorder::default();
        run(&recorder)?;
        let mut indexes = recorder.indexes.into_inner();
        indexes.sort_unstable();
        indexes.dedup();
        Ok(indexes)
    }
}

impl HashReader for IndexRecorder {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Error> {
        self.indexes.borrow_mut().extend_from_slice(indexes);
        Ok(vec![Hash([0; 32]); indexes.len()])
    }
}

// === impl MemoryHashes ===

impl MemoryHashes {
    /// Appends record `self.records()` with the given leaf hash.
    pub fn push(&mut self, leaf: Hash) -> Result<(), Error> {
        let hashes = stored_hashes_for_record_hash(self.records, leaf, self)?;
        self.hashes.extend(hashes);
        self.records += 1;
        Ok(())
    }

    pub fn records(&self) -> u64 {
        self.records
    }

    /// Every stored hash, in index order.
    pub fn all(&self) -> &[Hash] {
        &self.hashes
    }
}

impl HashReader for MemoryHashes {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Error> {
        indexes
            .iter()
            .map(|&i| {
                usize::try_from(i)
                    .ok()
                    .and_then(|i| self.hashes.get(i).copied())
                    .ok_or(Error::IndexesNotInTree)
            })
            .collect()
    }
}

/// The stored hashes that appending records `start..start + count` reads from storage:
/// those written by earlier appends. Record n combines one finished left sibling per
/// trailing one bit of n: at level i the node `(n >> i) - 1`, stored with an older record.
/// Hashes the batch itself produces are not read back from storage.
pub fn append_reads(start: u64, count: u64) -> Vec<u64> {
    let stored_before = stored_hash_index(0, start);
    let mut reads = Vec::new();
    for n in start..start.saturating_add(count) {
        for level in 0..n.trailing_ones() {
            let index = stored_hash_index(level as u8, (n >> level) - 1);
            if index < stored_before {
                reads.push(index);
            }
        }
    }
    reads.sort_unstable();
    reads.dedup();
    reads
}

/// The stored hashes of records `start..start + leaves.len()`, as `(index, hash)` in index
/// order, from the hashes [`append_reads`] named (in `prefetched`).
pub fn append_hashes(
    start: u64,
    leaves: &[Hash],
    mut prefetched: PrefetchedHashes,
) -> Result<Vec<(u64, Hash)>, Error> {
    let mut written = Vec::with_capacity(leaves.len() * 2);
    for (offset, leaf) in leaves.iter().enumerate() {
        let n = start + offset as u64;
        let first = stored_hash_index(0, n);
        let hashes = stored_hashes_for_record_hash(n, *leaf, &prefetched)?;
        for (k, hash) in hashes.into_iter().enumerate() {
            let index = first + k as u64;
            prefetched.insert(index, hash);
            written.push((index, hash));
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tlog_tiles::{record_hash, stored_hash_count, tree_hash};

    fn leaf(i: u64) -> Hash {
        record_hash(&i.to_be_bytes())
    }

    #[test]
    fn append_reads_are_exactly_what_the_crate_asks_for_up_to_2000_records() {
        let mut full = MemoryHashes::default();
        for n in 0..2000u64 {
            let asked =
                IndexRecorder::indexes_read_by(|r| stored_hashes_for_record_hash(n, leaf(n), r))
                    .unwrap();
            assert_eq!(append_reads(n, 1), asked, "record {n}");
            let prefetched =
                PrefetchedHashes::new(asked.iter().map(|&i| (i, full.all()[i as usize])));
            let written = append_hashes(n, &[leaf(n)], prefetched).unwrap();
            full.push(leaf(n)).unwrap();
            let expected: Vec<(u64, Hash)> = (stored_hash_index(0, n)..stored_hash_count(n + 1))
                .map(|i| (i, full.all()[i as usize]))
                .collect();
            assert_eq!(written, expected, "record {n}");
        }
    }

    #[test]
    fn batched_appends_give_the_same_tree_as_one_by_one() {
        let mut full = MemoryHashes::default();
        for n in 0..2000u64 {
            full.push(leaf(n)).unwrap();
        }
        for batch in [2u64, 3, 7, 64, 255, 256, 300] {
            let mut tree = MemoryHashes::default();
            let mut start = 0;
            while start < 2000 {
                let count = batch.min(2000 - start);
                let reads = append_reads(start, count);
                assert!(
                    reads.len() <= 2 * 64,
                    "batch of {count} reads {}",
                    reads.len()
                );
                let prefetched =
                    PrefetchedHashes::new(reads.iter().map(|&i| (i, tree.all()[i as usize])));
                let leaves: Vec<Hash> = (start..start + count).map(leaf).collect();
                let written = append_hashes(start, &leaves, prefetched).unwrap();
                assert_eq!(written[0].0, tree.all().len() as u64);
                for (_, hash) in &written {
                    tree.hashes.push(*hash);
                }
                tree.records += count;
                start += count;
            }
            assert_eq!(tree.all(), full.all(), "batch {batch}");
            assert_eq!(
                tree_hash(2000, &tree).unwrap(),
                tree_hash(2000, &full).unwrap()
            );
        }
    }

    #[test]
    fn a_missing_prefetched_hash_is_an_error_not_a_wrong_tree() {
        let err = append_hashes(1, &[leaf(1)], PrefetchedHashes::default()).unwrap_err();
        assert!(matches!(err, Error::IndexesNotInTree));
    }
}
