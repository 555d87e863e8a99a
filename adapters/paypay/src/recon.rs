//! PayPay's daily reconciliation file for OPA merchants (突合ファイル, `transaction_recon`,
//! announced by the `file.created` webhook): `transaction_<merchant_id>_<from>_<to>.csv`,
//! Shift_JIS, CRLF, one header row, one row per payment or refund of the PayPay-side day;
//! refunds carry a negative amount (payouts-jp.md §5.1, paypay.md §7). The file has no fee
//! or FX columns: PayPay charges yen and reports fees in the portal.
use kakehashi_adapter_core::recon::{
    RECON_FILE_BYTES_MAX, RECON_LINES_MAX, ReconFormat, ReconKind, ReconLine, ReconStatus,
};
use kakehashi_adapter_core::sim_control::Amount;

/// The file as the switch's `kakehashi reconcile` reads it (through the adapter's factory).
pub const FORMAT: ReconFormat = ReconFormat {
    name: "PayPay OPA 突合ファイル (transaction_recon, Shift_JIS CSV)",
    parse: |bytes| parse_file(bytes).map_err(|e| e.to_string()),
};

/// The header, in order (balance blocking off).
pub const COLUMNS: [&str; 12] = [
    "決済番号",
    "加盟店ID",
    "屋号",
    "店舗ID",
    "店舗名",
    "端末番号/PosID",
    "取引ステータス",
    "取引日時",
    "取引金額",
    "レシート番号",
    "支払い方法",
    "マーチャント決済ID",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReconFileError {
    #[error("the file is larger than {RECON_FILE_BYTES_MAX} bytes or {RECON_LINES_MAX} lines")]
    TooLarge,
    #[error("the file is not Shift_JIS text")]
    NotShiftJis,
    #[error("the header is not PayPay's: expected {expected}")]
    Header { expected: String },
    #[error("line {line}: {reason}")]
    Line { line: usize, reason: String },
}

/// The file's name for a merchant and day (`YYYYMMDD`), as PayPay names it.
pub fn file_name(merchant_id: &str, day: &str) -> String {
    format!("transaction_{merchant_id}_{day}_{day}.csv")
}

/// Writes the file for `date` (`YYYY-MM-DD`): Shift_JIS bytes.
pub fn write_file(merchant_id: &str, date: &str, lines: &[ReconLine]) -> Vec<u8> {
    let mut out = COLUMNS.join(",");
    out.push_str("\r\n");
    let day = date.replace('-', "/");
    for (n, l) in lines.iter().enumerate() {
        let (status, amount) = match (l.kind, l.status) {
            (ReconKind::Payment, ReconStatus::Succeeded) => ("取引完了", l.amount.value_string()),
            (ReconKind::Payment, _) => ("取引失敗", l.amount.value_string()),
            (ReconKind::Refund, ReconStatus::Succeeded) => {
                ("返金完了", format!("-{}", l.amount.value_string()))
            }
            (ReconKind::Refund, _) => ("返金失敗", format!("-{}", l.amount.value_string())),
        };
        let row = [
            l.network_id.clone(),
            merchant_id.to_owned(),
            "Kakehashi".into(),
            String::new(),
            String::new(),
            String::new(),
            status.into(),
            format!("{day} {:02}:{:02}:00", 9 + (n / 60) % 14, n % 60),
            amount,
            String::new(),
            "PayPay残高".into(),
            l.payment_id.clone(),
        ];
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(&out);
    bytes.into_owned()
}

/// Parses the file (Shift_JIS): every row, refunds by their negative amount.
pub fn parse_file(bytes: &[u8]) -> Result<Vec<ReconLine>, ReconFileError> {
    if bytes.len() > RECON_FILE_BYTES_MAX {
        return Err(ReconFileError::TooLarge);
    }
    let (text, had_errors) = encoding_rs::SHIFT_JIS.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(ReconFileError::NotShiftJis);
    }
    let mut rows = text.lines().filter(|l| !l.trim().is_empty());
    let header = rows.next().unwrap_or_default();
    if header.split(',').map(str::trim).ne(COLUMNS) {
        return Err(ReconFileError::Header {
            expected: COLUMNS.join(","),
        });
    }
    let mut lines = Vec::new();
    for (n, row) in rows.enumerate() {
        if lines.len() >= RECON_LINES_MAX {
            return Err(ReconFileError::TooLarge);
        }
        let line = parse_row(row).map_err(|reason| ReconFileError::Line {
            line: n + 2,
            reason,
        })?;
        lines.push(line);
    }
    Ok(lines)
}

fn parse_row(row: &str) -> Result<ReconLine, String> {
    let fields: Vec<&str> = row.split(',').map(str::trim).collect();
    if fields.len() != COLUMNS.len() {
        return Err(format!(
            "{} columns, expected {}",
            fields.len(),
            COLUMNS.len()
        ));
    }
    let (kind, status) = match fields[6] {
        "取引完了" => (ReconKind::Payment, ReconStatus::Succeeded),
        "取引失敗" => (ReconKind::Payment, ReconStatus::Failed),
        "返金完了" => (ReconKind::Refund, ReconStatus::Succeeded),
        "返金失敗" => (ReconKind::Refund, ReconStatus::Failed),
        other => return Err(format!("unknown 取引ステータス `{}`", other.escape_debug())),
    };
    let value = fields[8];
    let value = match kind {
        ReconKind::Refund => value
            .strip_prefix('-')
            .ok_or_else(|| "a refund's 取引金額 must be negative".to_owned())?,
        ReconKind::Payment => value,
    };
    let amount = Amount::parse(value, "JPY").map_err(|e| format!("取引金額: {e}"))?;
    Ok(ReconLine {
        kind,
        payment_id: fields[11].to_owned(),
        refund_id: None,
        network_id: fields[0].to_owned(),
        status,
        amount,
        wallet_amount: None,
        rate: None,
        fee: None,
        settlement: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use iso_currency::Currency;

    #[test]
    fn a_file_round_trips_through_shift_jis() {
        let payment = ReconLine {
            kind: ReconKind::Payment,
            payment_id: "pay_1".into(),
            refund_id: None,
            network_id: "04123456789012345678".into(),
            status: ReconStatus::Succeeded,
            amount: Amount::from_minor(1500, Currency::JPY).unwrap(),
            wallet_amount: None,
            rate: None,
            fee: None,
            settlement: None,
        };
        let refund = ReconLine {
            kind: ReconKind::Refund,
            network_id: "r-1".into(),
            amount: Amount::from_minor(500, Currency::JPY).unwrap(),
            ..payment.clone()
        };
        let bytes = write_file(
            "000000000000000001",
            "2026-12-01",
            &[payment.clone(), refund.clone()],
        );
        assert!(std::str::from_utf8(&bytes).is_err(), "Shift_JIS, not UTF-8");
        assert!(bytes.ends_with(b"\r\n"));
        assert_eq!(parse_file(&bytes).unwrap(), vec![payment, refund]);
        assert_eq!(
            file_name("000000000000000001", "20261201"),
            "transaction_000000000000000001_20261201_20261201.csv"
        );
        assert!(matches!(
            parse_file("a,b\r\n".as_bytes()),
            Err(ReconFileError::Header { .. })
        ));
    }
}
