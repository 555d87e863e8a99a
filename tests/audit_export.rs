//! An auditor's story: the switch's log is exported to a folder; the folder verifies with
//! nothing but the verifier key, with our command and with the crates' own check
//! functions; and every kind of tampering is caught and named.
mod support;

use std::path::{Path, PathBuf};

use kakehashi::audit::checkpoint::{LogSigner, keygen};
use kakehashi::audit::verify::{VerifyFailure, verify_dir};
use kakehashi::audit::{AuditEntry, EntryKind, export, writer};
use kakehashi::store::SqlStore;
use kakehashi::store::audit_sql;
use serde_json::json;
use sqlx::AnyPool;

const ORIGIN: &str = "kakehashi.example/audit/export-test";
/// Three entry bundles (two full, one partial) and a level-1 tile.
const ENTRIES: u64 = 600;

struct Exported {
    _dir: tempfile::TempDir,
    pool: AnyPool,
    folder: PathBuf,
    verifier_key: String,
    private_key: String,
}

fn entry(i: u64) -> AuditEntry {
    AuditEntry {
        kind: EntryKind::parse(if i.is_multiple_of(3) {
            EntryKind::ROUTING_DECISION
        } else {
            EntryKind::PAYMENT_TRANSITION
        })
        .unwrap(),
        at_ms: 1_767_225_600_000 + i as i64,
        payment_id: Some(format!("pay-{}", i / 3)),
        merchant_id: Some("shinjuku-ramen".into()),
        body: json!({"step": i, "code": "****1234", "network": "linepay"}),
    }
}

/// A log of 600 entries appended in the switch's way (transactions of 1 to 64 entries),
/// with checkpoints kept at 100, 300 and 600, exported to a folder.
async fn exported_log() -> Exported {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("switch.db").display());
    let pool: AnyPool = SqlStore::connect(&url).await.unwrap().pool().clone();
    let (private_key, verifier_key) = keygen(ORIGIN).unwrap();
    let signer = LogSigner::from_key(&private_key, ORIGIN).unwrap();
    let mut next = 0;
    for (round, batch) in [1u64, 64, 35, 200, 300].iter().enumerate() {
        for chunk_start in (next..next + batch).step_by(64) {
            let end = (chunk_start + 64).min(next + batch);
            let entries: Vec<AuditEntry> = (chunk_start..end).map(entry).collect();
            let mut tx = pool.begin().await.unwrap();
            audit_sql::append(&mut tx, &entries).await.unwrap();
            tx.commit().await.unwrap();
        }
        next += batch;
        if [2, 3, 4].contains(&round) {
            writer::checkpoint_now(&pool, &signer, 1)
                .await
                .unwrap()
                .unwrap();
        }
    }
    assert_eq!(next, ENTRIES);
    let folder = dir.path().join("export");
    let summary = export::export(&pool, &folder).await.unwrap();
    assert_eq!(summary.size, ENTRIES);
    assert_eq!(summary.checkpoints, 3);
    Exported {
        _dir: dir,
        pool,
        folder,
        verifier_key,
        private_key,
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for item in std::fs::read_dir(from).unwrap() {
        let item = item.unwrap();
        let target = to.join(item.file_name());
        if item.path().is_dir() {
            copy_tree(&item.path(), &target);
        } else {
            std::fs::copy(item.path(), target).unwrap();
        }
    }
}

/// A fresh copy of the export to tamper with.
fn tampered(export: &Exported, name: &str) -> PathBuf {
    let target = export.folder.with_file_name(format!("tampered-{name}"));
    copy_tree(&export.folder, &target);
    target
}

fn read_bundle(path: &Path) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(path).unwrap();
    let mut entries = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let length = u16::from_be_bytes([bytes[at], bytes[at + 1]]) as usize;
        entries.push(bytes[at + 2..at + 2 + length].to_vec());
        at += 2 + length;
    }
    entries
}

fn write_bundle(path: &Path, entries: &[Vec<u8>]) {
    let mut bytes = Vec::new();
    for e in entries {
        bytes.extend_from_slice(&(e.len() as u16).to_be_bytes());
        bytes.extend_from_slice(e);
    }
    std::fs::write(path, bytes).unwrap();
}

#[tokio::test]
async fn an_untouched_export_verifies() {
    let export = exported_log().await;
    let report = verify_dir(&export.folder, &export.verifier_key).unwrap();
    assert_eq!(report.size, ENTRIES);
    assert_eq!(report.origin, ORIGIN);
    assert_eq!(report.checkpoints, 3);
    let read: Vec<(u64, Vec<u8>)> = export::entries(&export.folder)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(read.len() as u64, ENTRIES);
    assert_eq!(AuditEntry::decode(&read[301].1).unwrap(), entry(301));
    assert_eq!(read[301].0, 301);
}

#[tokio::test]
async fn flipping_a_byte_of_an_entry_names_it() {
    let export = exported_log().await;
    let dir = tampered(&export, "flip");
    let bundle = dir.join("tile/entries/001");
    let mut entries = read_bundle(&bundle);
    // Entry 300 is the 45th of bundle 1: turn its "linepay" into "linepaz".
    let e = &mut entries[300 - 256];
    let at = e.windows(7).position(|w| w == b"linepay").unwrap() + 6;
    e[at] = b'z';
    write_bundle(&bundle, &entries);
    let err = verify_dir(&dir, &export.verifier_key).unwrap_err();
    assert!(
        matches!(err, VerifyFailure::EntryAltered { index: 300, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("entry 300"), "{err}");
}

#[tokio::test]
async fn dropping_an_entry_names_the_missing_one() {
    let export = exported_log().await;
    let dir = tampered(&export, "drop");
    let bundle = dir.join("tile/entries/000");
    let mut entries = read_bundle(&bundle);
    entries.remove(10);
    write_bundle(&bundle, &entries);
    let err = verify_dir(&dir, &export.verifier_key).unwrap_err();
    assert!(
        matches!(err, VerifyFailure::EntryMissing { index: 10, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn inserting_an_entry_names_where() {
    let export = exported_log().await;
    let dir = tampered(&export, "insert");
    let bundle = dir.join("tile/entries/000");
    let mut entries = read_bundle(&bundle);
    let forged = AuditEntry {
        body: json!({"step": 20, "code": "****9999", "network": "paypay"}),
        ..entry(20)
    };
    entries.insert(20, forged.encode().unwrap());
    write_bundle(&bundle, &entries);
    let err = verify_dir(&dir, &export.verifier_key).unwrap_err();
    assert!(
        matches!(err, VerifyFailure::EntryInserted { index: 20, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn swapping_two_entries_names_the_first_out_of_order() {
    let export = exported_log().await;
    let dir = tampered(&export, "swap");
    let bundle = dir.join("tile/entries/000");
    let mut entries = read_bundle(&bundle);
    entries.swap(30, 31);
    write_bundle(&bundle, &entries);
    let err = verify_dir(&dir, &export.verifier_key).unwrap_err();
    assert!(
        matches!(
            err,
            VerifyFailure::EntryReordered {
                index: 30,
                belongs_at: 31,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn an_altered_checkpoint_fails_its_signature() {
    let export = exported_log().await;
    let dir = tampered(&export, "checkpoint");
    let path = dir.join("checkpoint");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("\n600\n", "\n599\n", 1)).unwrap();
    let err = verify_dir(&dir, &export.verifier_key).unwrap_err();
    assert!(
        matches!(err, VerifyFailure::Checkpoint { ref path, .. } if path == "checkpoint"),
        "{err}"
    );
}

#[tokio::test]
async fn a_checkpoint_resigned_with_another_key_is_refused() {
    let export = exported_log().await;
    let (other_private, _) = keygen(ORIGIN).unwrap();
    let other = LogSigner::from_key(&other_private, ORIGIN).unwrap();
    let dir = tampered(&export, "resign");
    let genuine = kakehashi::audit::checkpoint::verify(
        &std::fs::read(dir.join("checkpoint")).unwrap(),
        &export.verifier_key,
    )
    .unwrap();
    let forged = other.sign(genuine.size, genuine.root).unwrap();
    std::fs::write(dir.join("checkpoint"), &forged.note).unwrap();
    let err = verify_dir(&dir, &export.verifier_key).unwrap_err();
    assert!(err.to_string().starts_with("checkpoint: "), "{err}");
    assert!(err.to_string().contains("no valid signature"), "{err}");

    // A kept checkpoint re-signed with another key is named too.
    let dir = tampered(&export, "resign-kept");
    let kept = kakehashi::audit::checkpoint::verify(
        &std::fs::read(dir.join("checkpoints/300")).unwrap(),
        &export.verifier_key,
    )
    .unwrap();
    std::fs::write(
        dir.join("checkpoints/300"),
        other.sign(300, kept.root).unwrap().note,
    )
    .unwrap();
    let err = verify_dir(&dir, &export.verifier_key).unwrap_err();
    assert!(err.to_string().starts_with("checkpoints/300: "), "{err}");
}

#[tokio::test]
async fn a_kept_checkpoint_of_another_history_is_inconsistent() {
    let export = exported_log().await;
    let dir = tampered(&export, "fork");
    // Signed with the right key, but for a tree that is not a prefix of the latest one.
    let signer = LogSigner::from_key(&export.private_key, ORIGIN).unwrap();
    let fork = signer
        .sign(300, tlog_tiles::record_hash(b"another history"))
        .unwrap();
    std::fs::write(dir.join("checkpoints/300"), fork.note).unwrap();
    let err = verify_dir(&dir, &export.verifier_key).unwrap_err();
    assert!(
        matches!(err, VerifyFailure::Inconsistent { ref path, .. } if path == "checkpoints/300"),
        "{err}"
    );
}

#[tokio::test]
async fn a_truncated_tile_is_named() {
    let export = exported_log().await;
    for path in ["tile/0/002.p/88", "tile/1/000.p/2", "tile/entries/001"] {
        let dir = tampered(&export, &path.replace('/', "-"));
        let file = dir.join(path);
        let bytes = std::fs::read(&file).unwrap();
        std::fs::write(&file, &bytes[..bytes.len() - 5]).unwrap();
        let err = verify_dir(&dir, &export.verifier_key).unwrap_err();
        assert!(
            err.to_string().starts_with(&format!("{path}: truncated")),
            "{path}: {err}"
        );
    }
}

#[tokio::test]
async fn an_altered_hash_tile_is_named() {
    let export = exported_log().await;
    let dir = tampered(&export, "hash-tile");
    let file = dir.join("tile/0/000");
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[32 * 7] ^= 1;
    std::fs::write(&file, bytes).unwrap();
    let err = verify_dir(&dir, &export.verifier_key).unwrap_err();
    assert!(
        matches!(err, VerifyFailure::TileAltered { ref path } if path == "tile/0/000"),
        "{err}"
    );
}

#[tokio::test]
async fn the_command_verifies_and_names_the_tampered_entry() {
    let export = exported_log().await;
    let key_file = export.folder.with_file_name("audit.vkey");
    std::fs::write(&key_file, format!("{}\n", export.verifier_key)).unwrap();
    let run = |dir: &Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_kakehashi"))
            .args(["audit", "verify"])
            .arg(dir)
            .arg("--key")
            .arg(&key_file)
            .output()
            .unwrap()
    };
    let ok = run(&export.folder);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).starts_with("verified: 600 entries"));

    let dir = tampered(&export, "cli");
    let bundle = dir.join("tile/entries/002.p/88");
    let mut entries = read_bundle(&bundle);
    entries[3][10] ^= 0x01;
    write_bundle(&bundle, &entries);
    let bad = run(&dir);
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("FAILED: entry 515"), "{stderr}");
}

/// What an auditor's own tool does, written from the specs with `tlog_tiles` and
/// `signed_note` only: none of the switch's log code runs below.
mod auditor_tools {
    use std::path::Path;

    use signed_note::{Note, StandardVerifier, VerifierList};
    use tlog_tiles::{
        Checkpoint, Error, Hash, HashReader, Tile, check_record, check_tree, prove_record,
        prove_tree, record_hash, stored_hashes, tree_hash,
    };

    /// Every stored hash in a Vec, indexed as tlog lays them out.
    #[derive(Default)]
    pub struct Hashes(pub Vec<Hash>);

    impl HashReader for Hashes {
        fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Error> {
            indexes
                .iter()
                .map(|&i| {
                    self.0
                        .get(i as usize)
                        .copied()
                        .ok_or(Error::IndexesNotInTree)
                })
                .collect()
        }
    }

    /// c2sp.org/tlog-tiles: `tile/<L>/<N>[.p/<W>]`, N in x-prefixed groups of 3 digits.
    pub fn c2sp_path(level: &str, n: u64, width: u32) -> String {
        let mut groups = vec![format!("{:03}", n % 1000)];
        let mut rest = n / 1000;
        while rest > 0 {
            groups.insert(0, format!("x{:03}", rest % 1000));
            rest /= 1000;
        }
        let partial = if width == 256 {
            String::new()
        } else {
            format!(".p/{width}")
        };
        format!("tile/{level}/{}{partial}", groups.join("/"))
    }

    /// Checks a signed checkpoint file with the verifier key; returns (size, root).
    pub fn open_checkpoint(path: &Path, verifier_key: &str) -> (u64, Hash) {
        let note = Note::from_bytes(&std::fs::read(path).unwrap()).unwrap();
        let verifier = StandardVerifier::new(verifier_key).unwrap();
        note.verify(&VerifierList::new(vec![Box::new(verifier)]))
            .unwrap();
        let checkpoint = Checkpoint::from_bytes(note.text()).unwrap();
        (checkpoint.size(), *checkpoint.hash())
    }

    pub fn verify(dir: &Path, verifier_key: &str) {
        let (size, root) = open_checkpoint(&dir.join("checkpoint"), verifier_key);
        // Entry bundles: big-endian uint16 length, then the entry.
        let mut hashes = Hashes::default();
        let mut records = Vec::new();
        for n in 0..size.div_ceil(256) {
            let width = (size - n * 256).min(256) as u32;
            let bytes = std::fs::read(dir.join(c2sp_path("entries", n, width))).unwrap();
            let mut at = 0;
            while at < bytes.len() {
                let len = u16::from_be_bytes([bytes[at], bytes[at + 1]]) as usize;
                let data = &bytes[at + 2..at + 2 + len];
                let index = records.len() as u64;
                hashes
                    .0
                    .extend(stored_hashes(index, data, &hashes).unwrap());
                records.push(data.to_vec());
                at += 2 + len;
            }
        }
        assert_eq!(records.len() as u64, size);
        assert_eq!(tree_hash(size, &hashes).unwrap(), root, "root");
        // Every hash tile, byte for byte.
        for tile in Tile::new_tiles(8, 0, size) {
            let path = c2sp_path(&tile.level().to_string(), tile.level_index(), tile.width());
            let served = std::fs::read(dir.join(&path)).unwrap();
            assert_eq!(served, tile.read_data(&hashes).unwrap(), "{path}");
        }
        // Inclusion of a sample of entries, and consistency of every kept checkpoint.
        for index in (0..size).step_by(37) {
            let proof = prove_record(size, index, &hashes).unwrap();
            check_record(
                &proof,
                size,
                root,
                index,
                record_hash(&records[index as usize]),
            )
            .unwrap();
        }
        for kept in std::fs::read_dir(dir.join("checkpoints")).unwrap() {
            let (old_size, old_root) = open_checkpoint(&kept.unwrap().path(), verifier_key);
            let proof = prove_tree(size, old_size, &hashes).unwrap();
            check_tree(&proof, size, root, old_size, old_root).unwrap();
        }
    }
}

#[tokio::test]
async fn an_export_verifies_with_only_the_crates_check_functions() {
    let export = exported_log().await;
    auditor_tools::verify(&export.folder, &export.verifier_key);
}

#[tokio::test]
async fn show_prints_a_payments_entries_with_checked_inclusion_proofs() {
    let export = exported_log().await;
    let out = kakehashi::audit::cli::show(&export.pool, "pay-3")
        .await
        .unwrap();
    assert!(out.starts_with("payment pay-3: 3 audit entries\n"), "{out}");
    assert!(out.contains("checked against checkpoint 600 of kakehashi.example/audit/export-test"));
    for index in [9, 10, 11] {
        assert!(
            out.contains(&format!("\n#{index}  2026-01-01T00:00:00.{index:03}Z  ")),
            "{out}"
        );
    }
    assert_eq!(
        out.matches("inclusion proof in tree 600 (10 hashes): verified")
            .count(),
        3
    );
    assert!(out.contains("\"code\": \"****1234\""), "{out}");
    assert!(
        kakehashi::audit::cli::show(&export.pool, "no-such-order")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn the_rule_sets_go_into_the_export() {
    let export = exported_log().await;
    // A rule set as the routing engine keeps it (migration 0004's table).
    sqlx::query("INSERT INTO rule_sets VALUES ('3f2a9c', '{\"limits\":{}}', 1)")
        .execute(&export.pool)
        .await
        .unwrap();
    let out = export.folder.with_file_name("with-rules");
    let summary = export::export(&export.pool, &out).await.unwrap();
    assert_eq!(summary.rule_sets, 1);
    assert_eq!(
        std::fs::read_to_string(out.join("rules/3f2a9c.json")).unwrap(),
        "{\"limits\":{}}"
    );
    verify_dir(&out, &export.verifier_key).unwrap();
}
