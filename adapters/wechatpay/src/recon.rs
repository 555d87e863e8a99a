//! WeChat Pay's reconciliation file (`/pay/downloadbill`, bill_type ALL): a plain-text CSV,
//! one header row, one row per transaction with every value prefixed by a backtick, then a
//! summary header and one summary row. Amounts are in major units of the bid currency.
//! The columns are the domestic layout (wechatpay.md §1.12; the overseas v2 header is not
//! public) plus the cross-border statement's wallet columns, which the parser reads by name.
use std::collections::HashMap;

use kakehashi_adapter_core::recon::{
    RECON_FILE_BYTES_MAX, RECON_LINES_MAX, ReconFormat, ReconKind, ReconLine, ReconStatus,
};
use kakehashi_adapter_core::sim_control::Amount;
use rust_decimal::Decimal;

/// The bill as the switch's `kakehashi reconcile` reads it (through the adapter's factory).
pub const FORMAT: ReconFormat = ReconFormat {
    name: "WeChat Pay downloadbill (bill_type ALL)",
    parse: |bytes| parse_bill(bytes).map_err(|e| e.to_string()),
};

/// The transaction header, in order.
pub const COLUMNS: [&str; 30] = [
    "交易时间",
    "公众账号ID",
    "商户号",
    "特约商户号",
    "设备号",
    "微信订单号",
    "商户订单号",
    "用户标识",
    "交易类型",
    "交易状态",
    "付款银行",
    "货币种类",
    "应结订单金额",
    "代金券金额",
    "微信退款单号",
    "商户退款单号",
    "退款金额",
    "充值券退款金额",
    "退款类型",
    "退款状态",
    "商品名称",
    "商户数据包",
    "手续费",
    "费率",
    "订单金额",
    "申请退款金额",
    "费率备注",
    "用户支付币种",
    "用户支付金额",
    "支付汇率",
];
/// The summary header.
pub const SUMMARY: [&str; 7] = [
    "总交易单数",
    "应结订单总金额",
    "退款总金额",
    "充值券退款总金额",
    "手续费总金额",
    "订单总金额",
    "申请退款总金额",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BillError {
    #[error("the bill is larger than {RECON_FILE_BYTES_MAX} bytes or {RECON_LINES_MAX} lines")]
    TooLarge,
    #[error("the bill is not UTF-8 text")]
    NotText,
    #[error("the bill has no `{0}` column")]
    MissingColumn(&'static str),
    #[error("line {line}: {reason}")]
    Line { line: usize, reason: String },
    #[error("the summary says {stated} transactions, the bill lists {listed}")]
    CountMismatch { stated: usize, listed: usize },
    #[error("the bill has no summary rows")]
    NoSummary,
}

/// Where the file was written: the institution and sub-merchant it is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillHeader<'a> {
    pub appid: &'a str,
    pub mch_id: &'a str,
    pub sub_mch_id: &'a str,
}

/// Writes the bill for `date` (`YYYY-MM-DD`) holding `lines`.
pub fn write_bill(header: &BillHeader<'_>, date: &str, lines: &[ReconLine]) -> Vec<u8> {
    let mut out = COLUMNS.join(",");
    out.push_str("\r\n");
    let mut settled = Decimal::ZERO;
    let mut refunded = Decimal::ZERO;
    let mut fees = Decimal::ZERO;
    for (n, l) in lines.iter().enumerate() {
        let value = |a: &Amount| a.value_string();
        let fee = l.fee.as_ref().map(value).unwrap_or_else(|| "0".into());
        fees += l.fee.map(|f| f.decimal()).unwrap_or_default();
        let (status, refund_id, refund_no, refund_amount, refund_status) = match l.kind {
            ReconKind::Payment => {
                settled += l.amount.decimal();
                let status = match l.status {
                    ReconStatus::Succeeded => "SUCCESS",
                    ReconStatus::Reversed => "REVOKED",
                    ReconStatus::Failed => "PAYERROR",
                };
                (status, String::new(), String::new(), "0".to_owned(), "")
            }
            ReconKind::Refund => {
                refunded += l.amount.decimal();
                (
                    "REFUND",
                    l.network_id.clone(),
                    l.refund_id.clone().unwrap_or_default(),
                    value(&l.amount),
                    "SUCCESS",
                )
            }
        };
        let transaction_id = match l.kind {
            ReconKind::Payment => l.network_id.clone(),
            ReconKind::Refund => String::new(),
        };
        let (wallet_currency, wallet_value) = match &l.wallet_amount {
            Some(w) => (w.currency_code().to_owned(), w.value_string()),
            None => (String::new(), String::new()),
        };
        let row = [
            format!("{date} {:02}:{:02}:00", 9 + (n / 60) % 14, n % 60),
            header.appid.to_owned(),
            header.mch_id.to_owned(),
            header.sub_mch_id.to_owned(),
            String::new(),
            transaction_id,
            l.payment_id.clone(),
            String::new(),
            "MICROPAY".into(),
            status.into(),
            "CFT".into(),
            l.amount.currency_code().into(),
            match l.kind {
                ReconKind::Payment => value(&l.amount),
                ReconKind::Refund => "0".into(),
            },
            "0".into(),
            refund_id,
            refund_no,
            refund_amount,
            "0".into(),
            match l.kind {
                ReconKind::Payment => String::new(),
                ReconKind::Refund => "ORIGINAL".into(),
            },
            refund_status.into(),
            String::new(),
            String::new(),
            fee,
            String::new(),
            value(&l.amount),
            "0".into(),
            String::new(),
            wallet_currency,
            wallet_value,
            l.rate.map(|r| r.to_string()).unwrap_or_default(),
        ];
        let row: Vec<String> = row.iter().map(|v| format!("`{v}")).collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out.push_str(&SUMMARY.join(","));
    out.push_str("\r\n");
    let summary = [
        lines.len().to_string(),
        settled.to_string(),
        refunded.to_string(),
        "0".into(),
        fees.to_string(),
        settled.to_string(),
        refunded.to_string(),
    ];
    let summary: Vec<String> = summary.iter().map(|v| format!("`{v}")).collect();
    out.push_str(&summary.join(","));
    out.push_str("\r\n");
    out.into_bytes()
}

/// Parses a bill: every transaction row, checked against the summary's count.
pub fn parse_bill(bytes: &[u8]) -> Result<Vec<ReconLine>, BillError> {
    if bytes.len() > RECON_FILE_BYTES_MAX {
        return Err(BillError::TooLarge);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| BillError::NotText)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = text.lines().filter(|l| !l.trim().is_empty()).enumerate();
    let (_, header) = rows.next().ok_or(BillError::NoSummary)?;
    let index: HashMap<&str, usize> = header
        .split(',')
        .enumerate()
        .map(|(i, name)| (name.trim(), i))
        .collect();
    let column = |name: &'static str| {
        index
            .get(name)
            .copied()
            .ok_or(BillError::MissingColumn(name))
    };
    let at = Columns {
        transaction_id: column("微信订单号")?,
        order_no: column("商户订单号")?,
        status: column("交易状态")?,
        currency: column("货币种类")?,
        settled: column("应结订单金额")?,
        refund_id: column("微信退款单号")?,
        refund_no: column("商户退款单号")?,
        refund_amount: column("退款金额")?,
        fee: column("手续费")?,
        wallet_currency: index.get("用户支付币种").copied(),
        wallet_amount: index.get("用户支付金额").copied(),
        rate: index.get("支付汇率").copied(),
    };
    let mut lines = Vec::new();
    for (number, row) in rows.by_ref() {
        if row.starts_with(SUMMARY[0]) {
            let (_, summary) = rows.next().ok_or(BillError::NoSummary)?;
            let stated = summary
                .split(',')
                .next()
                .map(|v| v.trim().trim_start_matches('`'))
                .and_then(|v| v.parse::<usize>().ok())
                .ok_or(BillError::NoSummary)?;
            if stated != lines.len() {
                return Err(BillError::CountMismatch {
                    stated,
                    listed: lines.len(),
                });
            }
            return Ok(lines);
        }
        if lines.len() >= RECON_LINES_MAX {
            return Err(BillError::TooLarge);
        }
        let line = parse_row(&at, row).map_err(|reason| BillError::Line {
            line: number + 1,
            reason,
        })?;
        lines.push(line);
    }
    Err(BillError::NoSummary)
}

struct Columns {
    transaction_id: usize,
    order_no: usize,
    status: usize,
    currency: usize,
    settled: usize,
    refund_id: usize,
    refund_no: usize,
    refund_amount: usize,
    fee: usize,
    wallet_currency: Option<usize>,
    wallet_amount: Option<usize>,
    rate: Option<usize>,
}

fn parse_row(at: &Columns, row: &str) -> Result<ReconLine, String> {
    let fields: Vec<&str> = row
        .split(',')
        .map(|v| v.trim().trim_start_matches('`'))
        .collect();
    let get = |i: usize| fields.get(i).copied().unwrap_or_default();
    let opt = |i: Option<usize>| i.map(get).filter(|v| !v.is_empty());
    let currency = get(at.currency);
    let parse = |value: &str| Amount::parse(value, currency).map_err(|e| e.to_string());
    let (kind, status, amount, network_id, refund_id) = match get(at.status) {
        "REFUND" => (
            ReconKind::Refund,
            ReconStatus::Succeeded,
            parse(get(at.refund_amount))?,
            get(at.refund_id).to_owned(),
            Some(get(at.refund_no).to_owned()).filter(|r| !r.is_empty()),
        ),
        status => {
            let status = match status {
                "SUCCESS" => ReconStatus::Succeeded,
                "REVOKED" | "REVERSE" | "CLOSED" => ReconStatus::Reversed,
                "PAYERROR" | "NOTPAY" => ReconStatus::Failed,
                other => return Err(format!("unknown 交易状态 `{}`", other.escape_debug())),
            };
            (
                ReconKind::Payment,
                status,
                parse(get(at.settled))?,
                get(at.transaction_id).to_owned(),
                None,
            )
        }
    };
    let wallet_amount = match (opt(at.wallet_currency), opt(at.wallet_amount)) {
        (Some(c), Some(v)) => Some(Amount::parse(v, c).map_err(|e| e.to_string())?),
        _ => None,
    };
    let rate = opt(at.rate)
        .map(|r| Decimal::from_str_exact(r).map_err(|_| format!("支付汇率 `{r}` is not a decimal")))
        .transpose()?;
    let fee = match get(at.fee) {
        "" => None,
        value => Some(parse(value)?),
    };
    Ok(ReconLine {
        kind,
        payment_id: get(at.order_no).to_owned(),
        refund_id,
        network_id,
        status,
        amount,
        wallet_amount,
        rate,
        fee,
        settlement: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use iso_currency::Currency;

    fn line(id: &str, yen: i64, fen: i64) -> ReconLine {
        ReconLine {
            kind: ReconKind::Payment,
            payment_id: id.into(),
            refund_id: None,
            network_id: format!("42000{id}"),
            status: ReconStatus::Succeeded,
            amount: Amount::from_minor(yen, Currency::JPY).unwrap(),
            wallet_amount: Some(Amount::from_minor(fen, Currency::CNY).unwrap()),
            rate: Some(Decimal::new(478, 4)),
            fee: Some(Amount::from_minor(29, Currency::JPY).unwrap()),
            settlement: None,
        }
    }

    #[test]
    fn a_bill_parses_back_to_its_lines() {
        let mut refund = line("p2", 600, 2868);
        refund.kind = ReconKind::Refund;
        refund.refund_id = Some("ref_1".into());
        refund.fee = None;
        let lines = vec![line("p1", 1200, 5736), refund];
        let header = BillHeader {
            appid: "wx2421b1c4370ec43b",
            mch_id: "10000100",
            sub_mch_id: "1900000109",
        };
        let bytes = write_bill(&header, "2026-12-01", &lines);
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("`SUCCESS") && text.contains("`2026-12-01 09:00:00"));
        let mut parsed = parse_bill(&bytes).unwrap();
        parsed[1].fee = None;
        assert_eq!(parsed, lines);
    }

    #[test]
    fn a_bill_whose_summary_disagrees_is_refused() {
        let header = BillHeader {
            appid: "a",
            mch_id: "m",
            sub_mch_id: "s",
        };
        let bytes = write_bill(&header, "2026-12-01", &[line("p1", 1200, 5736)]);
        let text = String::from_utf8(bytes)
            .unwrap()
            .replace("\r\n`1,", "\r\n`2,");
        assert!(matches!(
            parse_bill(text.as_bytes()),
            Err(BillError::CountMismatch { .. })
        ));
    }
}
