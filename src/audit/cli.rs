//! `kakehashi audit ...`: key generation, export, offline verification, a payment's entries
//! with their proofs, and an on-demand checkpoint. Each returns the text to print.
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kakehashi_adapter_core::{Clock, SystemClock};
use sqlx::AnyPool;
use tlog_tiles::{check_record, prove_record};

use super::checkpoint::{LogSigner, keygen, write_key_file};
use super::entry::{AuditEntry, leaf_hash};
use super::{export, verify, writer};
use crate::config::Config;
use crate::store::SqlStore;
use crate::store::audit_sql::{self, StoredEntry, with_hashes};

/// Entries `audit show` prints for one payment.
const SHOW_ENTRIES_MAX: usize = 1_000;

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Write a new Ed25519 signing key for the log's origin and print its verifier key
    /// (`<name>+<hex id>+<base64>`), which auditors use to check checkpoints.
    Keygen {
        /// The log's origin, e.g. kakehashi.example/audit/tokyo-1 (= `[audit] origin`).
        #[arg(long)]
        name: String,
        /// The private key file to create (never overwritten; mode 0600).
        #[arg(long)]
        out: PathBuf,
    },
    /// Sign a checkpoint of the committed log now.
    Checkpoint {
        #[arg(long, env = "KAKEHASHI_CONFIG")]
        config: PathBuf,
    },
    /// Write the log as a static tlog-tiles folder: checkpoint, kept checkpoints, hash
    /// tiles, entry bundles and the rule sets. Signs a fresh checkpoint first.
    Export {
        #[arg(long, env = "KAKEHASHI_CONFIG")]
        config: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// Verify an exported folder offline with the verifier key alone; names the first
    /// altered, missing, inserted or reordered entry, or the bad tile or checkpoint.
    Verify {
        dir: PathBuf,
        /// The verifier key, or a file holding it.
        #[arg(long)]
        key: String,
    },
    /// Re-run the routing engine over every logged decision of an exported folder, each
    /// under the rule set its entry names (DIR/rules/<version>.json), and report any
    /// decision it does not reproduce. Exits non-zero if one is not reproduced.
    Replay { dir: PathBuf },
    /// Print a payment's entries, decoded, with inclusion proofs against the latest
    /// checkpoint.
    Show {
        #[arg(long, env = "KAKEHASHI_CONFIG")]
        config: PathBuf,
        /// The merchant's order id (or the switch's payment id).
        #[arg(long)]
        payment: String,
    },
}

/// Runs an audit command and returns what to print.
pub async fn run(command: AuditCommand) -> Result<String, String> {
    match command {
        AuditCommand::Keygen { name, out } => {
            let (private, public) = keygen(&name).map_err(|e| e.to_string())?;
            write_key_file(&out, &private).map_err(|e| e.to_string())?;
            Ok(format!(
                "{public}\n# private key written to {}; give auditors the line above",
                out.display()
            ))
        }
        AuditCommand::Checkpoint { config } => {
            let (pool, signer) = open_signing(&config).await?;
            Ok(match checkpoint(&pool, &signer).await? {
                Some(size) => format!("signed checkpoint of size {size}"),
                None => "the latest checkpoint already covers the log".into(),
            })
        }
        AuditCommand::Export { config, out } => {
            let (pool, signer) = open_signing(&config).await?;
            checkpoint(&pool, &signer).await?;
            let summary = export::export(&pool, &out)
                .await
                .map_err(|e| e.to_string())?;
            Ok(format!(
                "exported {} entries ({} tiles, {} checkpoints, {} rule sets) to {}",
                summary.size,
                summary.tiles,
                summary.checkpoints,
                summary.rule_sets,
                out.display()
            ))
        }
        AuditCommand::Verify { dir, key } => {
            let key = read_key_argument(&key)?;
            let report = verify::verify_dir(&dir, &key).map_err(|e| format!("FAILED: {e}"))?;
            Ok(format!(
                "verified: {} entries of {} (root {}), {} tiles, {} kept checkpoints consistent",
                report.size, report.origin, report.root, report.tiles, report.checkpoints
            ))
        }
        AuditCommand::Replay { dir } => replay(&dir),
        AuditCommand::Show { config, payment } => {
            let config = Config::load(&config).map_err(|e| e.to_string())?;
            let pool = open_pool(&config).await?;
            show(&pool, &payment).await
        }
    }
}

/// Replays an export's decisions; an entry bundle that cannot be read fails the replay
/// rather than shrinking it silently.
pub fn replay(dir: &Path) -> Result<String, String> {
    export::exported_size(dir).map_err(|e| e.to_string())?;
    let mut unreadable = None;
    let entries = export::entries(dir).map_while(|entry| match entry {
        Ok(entry) => Some(entry),
        Err(e) => {
            unreadable = Some(e.to_string());
            None
        }
    });
    let report = crate::routing::replay::replay_entries(entries, &dir.join("rules"));
    if let Some(e) = unreadable {
        return Err(format!(
            "FAILED: {e} (after {} decisions)",
            report.decisions
        ));
    }
    if report.all_reproduced() {
        Ok(report.to_string().trim_end().to_owned())
    } else {
        Err(format!("FAILED: {}", report.to_string().trim_end()))
    }
}

fn read_key_argument(key: &str) -> Result<String, String> {
    let path = Path::new(key);
    if path.is_file() {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{key}: {e}"))?;
        return Ok(text.trim().to_owned());
    }
    Ok(key.trim().to_owned())
}

async fn open_pool(config: &Config) -> Result<AnyPool, String> {
    let store = SqlStore::connect(&config.store_url)
        .await
        .map_err(|e| e.to_string())?;
    Ok(store.pool().clone())
}

async fn open_signing(path: &Path) -> Result<(AnyPool, LogSigner), String> {
    let config = Config::load(path).map_err(|e| e.to_string())?;
    let audit = config
        .audit
        .as_ref()
        .ok_or("the config has no [audit] section (origin, key_path)")?;
    let signer =
        LogSigner::from_key_file(&audit.key_path, &audit.origin).map_err(|e| e.to_string())?;
    Ok((open_pool(&config).await?, signer))
}

async fn checkpoint(pool: &AnyPool, signer: &LogSigner) -> Result<Option<u64>, String> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let signed = writer::checkpoint_now(pool, signer, clock.now_ms())
        .await
        .map_err(|e| e.to_string())?;
    Ok(signed.map(|c| c.size))
}

/// A payment's entries, decoded, each with its inclusion proof checked against the latest
/// checkpoint before it is printed.
pub async fn show(pool: &AnyPool, payment: &str) -> Result<String, String> {
    let ids = audit_sql::payment_ids_for_order(pool, payment)
        .await
        .map_err(|e| e.to_string())?;
    if ids.is_empty() {
        return Err(format!(
            "no payment with order id or payment id `{payment}`"
        ));
    }
    let latest = audit_sql::latest_checkpoint(pool)
        .await
        .map_err(|e| e.to_string())?
        .map(|c| c.checkpoint);
    let mut out = String::new();
    for id in ids {
        let entries = audit_sql::entries_for_payment(pool, &id, 0, SHOW_ENTRIES_MAX)
            .await
            .map_err(|e| e.to_string())?;
        out.push_str(&format!("payment {id}: {} audit entries\n", entries.len()));
        match &latest {
            Some(c) => out.push_str(&format!(
                "checked against checkpoint {} of {} (root {})\n",
                c.size, c.origin, c.root
            )),
            None => out.push_str("no checkpoint yet: entries are not proven\n"),
        }
        for entry in &entries {
            out.push_str(&describe(pool, entry, latest.as_ref().map(|c| (c.size, c.root))).await?);
        }
    }
    Ok(out)
}

async fn describe(
    pool: &AnyPool,
    entry: &StoredEntry,
    checkpoint: Option<(u64, tlog_tiles::Hash)>,
) -> Result<String, String> {
    let decoded =
        AuditEntry::decode(&entry.bytes).map_err(|e| format!("entry {}: {e}", entry.index))?;
    let body = serde_json::to_string_pretty(&decoded.body).map_err(|e| e.to_string())?;
    let leaf = leaf_hash(&entry.bytes);
    let mut out = format!(
        "\n#{}  {}  {}\n{}\n  leaf hash {}\n",
        entry.index,
        utc(entry.at_ms),
        decoded.kind,
        indent(&body),
        hex::encode(leaf.0)
    );
    match checkpoint {
        Some((size, root)) if entry.index < size => {
            let proof = with_hashes(pool, |r| prove_record(size, entry.index, r))
                .await
                .map_err(|e| e.to_string())?;
            let verdict = match check_record(&proof, size, root, entry.index, leaf) {
                Ok(()) => "verified",
                Err(_) => "DOES NOT VERIFY",
            };
            out.push_str(&format!(
                "  inclusion proof in tree {size} ({} hashes): {verdict}\n",
                proof.len()
            ));
            for hash in proof {
                out.push_str(&format!("    {}\n", hex::encode(hash.0)));
            }
        }
        _ => out.push_str("  not yet covered by a checkpoint\n"),
    }
    Ok(out)
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` for Unix milliseconds (days to civil date as in Howard
/// Hinnant's `civil_from_days`).
pub fn utc(at_ms: i64) -> String {
    let days = at_ms.div_euclid(86_400_000);
    let ms_of_day = at_ms.rem_euclid(86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        ms_of_day / 3_600_000,
        ms_of_day / 60_000 % 60,
        ms_of_day / 1000 % 60,
        ms_of_day % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::utc;

    #[test]
    fn utc_formats_unix_milliseconds() {
        assert_eq!(utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(utc(1_767_225_600_123), "2026-01-01T00:00:00.123Z");
        assert_eq!(utc(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}
