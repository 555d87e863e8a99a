//! RFC 6962 vectors (standards.md §4.2, from transparency-dev/merkle) through the path the
//! switch uses: leaves appended in batches under the head lock into a real SQLite store,
//! roots and proofs read back with one batched SELECT each, checked with the verifier that
//! `audit verify` and `audit show` use.
use tlog_tiles::{Hash, check_record, check_tree, prove_record, prove_tree, tree_hash};

use super::*;
use crate::store::SqlStore;

const LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

const ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// The node table's names, as the proof tables use them.
fn node(name: &str) -> Hash {
    h(match name {
        "a" => "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "b" => "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "c" => "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "d" => "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "e" => "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "f" => "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "j" => "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "g" => "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "h" => "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "i" => "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "N67" => "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "k" => "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "N48" => "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        "l" => "837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e",
        other => panic!("no node {other}"),
    })
}

fn h(hex_text: &str) -> Hash {
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_text, &mut out).unwrap();
    Hash(out)
}

fn nodes(names: &[&str]) -> Vec<Hash> {
    names.iter().map(|n| node(n)).collect()
}

fn leaf(i: usize) -> Hash {
    tlog_tiles::record_hash(&hex::decode(LEAVES[i]).unwrap())
}

fn root(n: usize) -> Hash {
    h(ROOTS[n])
}

/// The eight vector leaves, appended in batches of 1, 2 and 5 through the store.
async fn vector_log() -> (tempfile::TempDir, AnyPool) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("audit.db").display());
    let store = SqlStore::connect(&url).await.unwrap();
    let pool = store.pool().clone();
    let leaves: Vec<Hash> = (0..8).map(leaf).collect();
    for batch in [&leaves[0..1], &leaves[1..3], &leaves[3..8]] {
        let mut tx = pool.begin().await.unwrap();
        append_leaves(&mut tx, batch).await.unwrap();
        tx.commit().await.unwrap();
    }
    (dir, pool)
}

#[tokio::test]
async fn roots_for_sizes_0_to_8_match_rfc6962() {
    let (_dir, pool) = vector_log().await;
    for n in 0..=8u64 {
        let got = with_hashes(&pool, |r| tree_hash(n, r)).await.unwrap();
        assert_eq!(got, root(n as usize), "size {n}");
    }
}

#[tokio::test]
async fn the_listed_inclusion_proofs_come_out_of_the_store_and_verify() {
    let (_dir, pool) = vector_log().await;
    let table: [(u64, u64, &[&str]); 9] = [
        (0, 1, &[]),
        (0, 2, &["b"]),
        (1, 2, &["a"]),
        (2, 3, &["g"]),
        (1, 5, &["a", "h", "e"]),
        (0, 8, &["b", "h", "N48"]),
        (5, 8, &["e", "N67", "k"]),
        (3, 6, &["c", "g", "i"]),
        (6, 7, &["i", "k"]),
    ];
    for (m, n, expected) in table {
        let proof = with_hashes(&pool, |r| prove_record(n, m, r)).await.unwrap();
        assert_eq!(proof, nodes(expected), "inclusion {m}, {n}");
        check_record(&proof, n, root(n as usize), m, leaf(m as usize)).unwrap();
    }
    // The pairs a widely copied verifier wrongly rejects: ours must accept them.
    for (m, n) in [(2, 3), (4, 5), (4, 6), (5, 6), (6, 7)] {
        let proof = with_hashes(&pool, |r| prove_record(n, m, r)).await.unwrap();
        check_record(&proof, n, root(n as usize), m, leaf(m as usize)).unwrap();
    }
}

#[tokio::test]
async fn the_listed_consistency_proofs_come_out_of_the_store_and_verify() {
    let (_dir, pool) = vector_log().await;
    let table: [(u64, u64, &[&str]); 9] = [
        (1, 1, &[]),
        (1, 8, &["b", "h", "N48"]),
        (2, 5, &["h", "e"]),
        (6, 8, &["i", "N67", "k"]),
        (6, 7, &["i", "j", "k"]),
        (3, 7, &["c", "d", "g", "l"]),
        (4, 7, &["l"]),
        (4, 8, &["N48"]),
        (5, 8, &["e", "f", "N67", "k"]),
    ];
    for (m, n, expected) in table {
        let proof = with_hashes(&pool, |r| prove_tree(n, m, r)).await.unwrap();
        assert_eq!(proof, nodes(expected), "consistency {m} -> {n}");
        check_tree(&proof, n, root(n as usize), m, root(m as usize)).unwrap();
    }
}

/// A mutated probe: its name, then (proof, tree size, root, index or old size, hash).
type Probe = (&'static str, Vec<Hash>, u64, Hash, u64, Hash);

fn flip_bit(hash: Hash) -> Hash {
    let mut bytes = hash.0;
    bytes[4] ^= 0x10;
    Hash(bytes)
}

#[test]
fn mutated_inclusion_proofs_a_careless_verifier_accepts_are_rejected() {
    let proof = nodes(&["e", "N67", "k"]);
    let (m, n, r, lh) = (5u64, 8u64, root(8), leaf(5));
    check_record(&proof, n, r, m, lh).unwrap();
    let mut reversed = proof.clone();
    reversed.reverse();
    let raw_leaf = Hash(unprefixed_sha256(&hex::decode(LEAVES[5]).unwrap()));
    let mut truncated = proof.clone();
    truncated.pop();
    let mut trailing = proof.clone();
    trailing.push(node("a"));
    let mut preceding = vec![node("a")];
    preceding.extend(proof.clone());
    let mut modified = proof.clone();
    modified[1] = flip_bit(modified[1]);
    let cases: [Probe; 12] = [
        ("wrong index", proof.clone(), n, r, 4, lh),
        ("index = size", proof.clone(), n, r, 8, lh),
        ("smaller size", proof.clone(), 7, root(7), m, lh),
        ("larger size", proof.clone(), 9, r, m, lh),
        ("reversed path", reversed, n, r, m, lh),
        ("raw leaf, no 0x00 prefix", proof.clone(), n, r, m, raw_leaf),
        ("empty proof", vec![], n, r, m, lh),
        ("truncated proof", truncated, n, r, m, lh),
        ("trailing garbage", trailing, n, r, m, lh),
        ("preceding garbage", preceding, n, r, m, lh),
        ("modified bit", modified, n, r, m, lh),
        ("wrong root", proof.clone(), n, root(7), m, lh),
    ];
    for (name, p, t, th, idx, leaf_hash) in cases {
        assert!(check_record(&p, t, th, idx, leaf_hash).is_err(), "{name}");
    }
    // The empty tree's root is not a leaf hash: HashLeaf("") differs from MTH({}).
    assert_ne!(leaf(0), root(0));
}

#[test]
fn mutated_consistency_proofs_a_careless_verifier_accepts_are_rejected() {
    let proof = nodes(&["i", "N67", "k"]);
    let (m, n) = (6u64, 8u64);
    check_tree(&proof, n, root(8), m, root(6)).unwrap();
    let mut truncated = proof.clone();
    truncated.pop();
    let mut trailing = proof.clone();
    trailing.push(node("a"));
    let mut preceding = vec![node("a")];
    preceding.extend(proof.clone());
    let mut modified = proof.clone();
    modified[0] = flip_bit(modified[0]);
    let cases: [Probe; 9] = [
        ("swapped roots", proof.clone(), n, root(6), m, root(8)),
        ("wrong size1 (5)", proof.clone(), n, root(8), 5, root(6)),
        ("wrong size1 (7)", proof.clone(), n, root(8), 7, root(6)),
        ("size2 doubled", proof.clone(), 16, root(8), m, root(6)),
        ("empty proof", vec![], n, root(8), m, root(6)),
        ("truncated proof", truncated, n, root(8), m, root(6)),
        ("trailing garbage", trailing, n, root(8), m, root(6)),
        ("preceding garbage", preceding, n, root(8), m, root(6)),
        ("modified bit", modified, n, root(8), m, root(6)),
    ];
    for (name, p, t, th, old, oh) in cases {
        assert!(check_tree(&p, t, th, old, oh).is_err(), "{name}");
    }
    // size1 > size2, and equal sizes with a proof, are refused.
    assert!(check_tree(&proof, 6, root(6), 8, root(8)).is_err());
    assert!(check_tree(&[node("a")].to_vec(), 8, root(8), 8, root(8)).is_err());
    // The power-of-two first sizes a verifier that skips the prepend step breaks.
    check_tree(&nodes(&["b", "h", "N48"]), 8, root(8), 1, root(1)).unwrap();
    check_tree(&nodes(&["N48"]), 8, root(8), 4, root(4)).unwrap();
}

#[tokio::test]
async fn signed_checkpoints_are_kept_and_checked_for_consistency_through_the_store() {
    use crate::audit::checkpoint::{LogSigner, check_consistency, keygen};
    let (_dir, pool) = vector_log().await;
    let origin = "kakehashi.example/audit/vectors";
    let (private, _) = keygen(origin).unwrap();
    let signer = LogSigner::from_key(&private, origin).unwrap();
    for size in [3u64, 8] {
        let r = with_hashes(&pool, |h| tree_hash(size, h)).await.unwrap();
        insert_checkpoint(&pool, &signer.sign(size, r).unwrap(), 1)
            .await
            .unwrap();
    }
    let kept = checkpoints(&pool, 0).await.unwrap();
    assert_eq!(
        kept.iter().map(|c| c.checkpoint.size).collect::<Vec<_>>(),
        [3, 8]
    );
    let latest = latest_checkpoint(&pool).await.unwrap().unwrap().checkpoint;
    assert_eq!(latest.root, root(8));
    let old = &kept[0].checkpoint;
    let proof = with_hashes(&pool, |h| prove_tree(8, 3, h)).await.unwrap();
    check_consistency(old, &latest, &proof).unwrap();
    let mut forged = old.clone();
    forged.root = root(4);
    assert!(check_consistency(&forged, &latest, &proof).is_err());
}

/// SHA-256 of the data alone, without RFC 6962's 0x00 leaf prefix.
fn unprefixed_sha256(data: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(data).into()
}
