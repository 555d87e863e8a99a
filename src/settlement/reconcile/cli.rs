//! `kakehashi reconcile --config FILE --network N --file F --date YYYY-MM-DD`: the network's
//! file against the store the config names, printed as one line per discrepancy with both
//! sides' values, and optionally written as JSON.
use std::path::Path;

use super::{Class, Finding, FxOptions, ReconcileError, Report, reconcile_file};
use crate::settlement::BusinessDate;

/// Largest file the command reads.
const FILE_BYTES_MAX: u64 = kakehashi_adapter_core::recon::RECON_FILE_BYTES_MAX as u64;

/// Loads the config and the file, and reconciles them.
pub async fn run(
    config_path: &Path,
    network: &str,
    file: &Path,
    date: BusinessDate,
    fx_minor: i64,
) -> Result<Report, ReconcileError> {
    let config = crate::config::Config::load(config_path)
        .map_err(|e| ReconcileError::Config(e.to_string()))?;
    let settings = config
        .network_settings()
        .map_err(|e| ReconcileError::Config(e.to_string()))?;
    let adapter = settings
        .get(network)
        .map(|s| s.adapter_kind.clone())
        .ok_or_else(|| ReconcileError::Config(format!("the config has no [networks.{network}]")))?;
    let fx = FxOptions {
        tolerance_minor: fx_minor,
        rounding: config
            .fx
            .policy()
            .map_err(|e| ReconcileError::Config(format!("fx: {e}")))?
            .for_network(network)
            .rounding,
    };
    let setup = match &config.settlement {
        Some(s) => Some(
            s.build()
                .map_err(|e| ReconcileError::Config(e.to_string()))?,
        ),
        None => None,
    };
    let size = std::fs::metadata(file)
        .map_err(|e| ReconcileError::File(format!("{}: {e}", file.display())))?
        .len();
    if size > FILE_BYTES_MAX {
        return Err(ReconcileError::File(format!(
            "{} is larger than {FILE_BYTES_MAX} bytes",
            file.display()
        )));
    }
    let bytes = std::fs::read(file)
        .map_err(|e| ReconcileError::File(format!("{}: {e}", file.display())))?;
    let store = crate::store::SqlStore::connect(&config.store_url).await?;
    reconcile_file(
        store.pool(),
        network,
        &adapter,
        setup.as_ref(),
        date,
        &bytes,
        fx,
    )
    .await
}

fn class_name(class: Class) -> &'static str {
    match class {
        Class::Matched => "matched",
        Class::MissingAtNetwork => "missing_at_network",
        Class::MissingAtSwitch => "missing_at_switch",
        Class::AmountMismatch => "amount_mismatch",
        Class::StatusMismatch => "status_mismatch",
        Class::FxDifference => "fx_difference",
        Class::FeeMismatch => "fee_mismatch",
    }
}

fn side_text(side: Option<&super::Side>) -> String {
    let Some(s) = side else {
        return "-".into();
    };
    let mut parts = vec![s.status.clone()];
    parts.extend(s.amount.clone());
    if let Some(w) = &s.wallet_amount {
        parts.push(format!("wallet {w}"));
    }
    if let Some(settlement) = &s.settlement_amount {
        parts.push(format!("settlement {settlement}"));
    }
    if let Some(f) = &s.fee {
        parts.push(format!("fee {f}"));
    }
    if let Some(n) = &s.network_id {
        parts.push(format!("network id {n}"));
    }
    parts.join(", ")
}

fn finding_text(f: &Finding) -> String {
    format!(
        "{} {:?} {}{}: ours [{}] theirs [{}]",
        class_name(f.class),
        f.kind,
        f.payment_id,
        f.refund_id
            .as_deref()
            .map(|r| format!(" refund {r}"))
            .unwrap_or_default(),
        side_text(f.ours.as_ref()),
        side_text(f.theirs.as_ref()),
    )
}

/// The report for people: a summary line, then one line per finding.
pub fn to_text(report: &Report) -> String {
    let counts: Vec<String> = report
        .counts
        .iter()
        .map(|(class, n)| format!("{} {n}", class_name(*class)))
        .collect();
    let mut out = format!(
        "{} {}: {} file lines, {} of our records; {}\n",
        report.network,
        report.business_date,
        report.file_lines,
        report.our_records,
        counts.join(", ")
    );
    for f in &report.findings {
        out.push_str(&finding_text(f));
        out.push('\n');
    }
    out
}
