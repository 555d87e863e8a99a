//! `SettlementService` over gRPC: a day of LINE Pay payments and a refund made through the
//! switch, closed by the operator (twice: the second finds it closed), its batch, balances
//! and invoice read back; merchant keys and bad requests refused with their reasons.
use std::collections::BTreeMap;

use kakehashi::settlement::BusinessDate;
use kakehashi_adapter_core::Clock;
use kakehashi_proto::v1 as pb;
use kakehashi_proto::v1::settlement_service_client::SettlementServiceClient;
use tonic::Code;
use tonic::transport::Channel;
use tonic_types::StatusExt;

mod support;
use support::switch::{Options, TILL_KEY, TestSwitch, spawn_with};

const OPERATOR_KEY: &str = "finance-operator-key-0001";

const SETTLEMENT: &str = r#"
[[operators]]
id = "finance"
api_key = "finance-operator-key-0001"

[settlement]
registration_number = "T1180301018771"
issuer_name = "カケハシペイメンツ株式会社"
tax_rate = "0.10"
tax_rounding = "down"

[settlement.networks.linepay]
cutoff = "24:00"
currency = "JPY"
settlement_currency = "JPY"
fee_taxable = true
fee_rounding = "down"
fees = [{ rate = "0.0245", from = "2020-01-01" }]

[settlement.remitter]
requester_code = "0012345678"
name_kana = "カ)カケハシペイメンツ"
bank_code = "0001"
bank_name_kana = "ミズホ"
branch_code = "001"
branch_name_kana = "トウキヨウ"
account_type = "ordinary"
account_number = "1234567"

[settlement.merchants.shinjuku-ramen]
name = "新宿らーめん株式会社"
customer_code = "100001"
payout = { cycle = "daily", business_days_after = 2 }
bank = { bank_code = "0005", bank_name_kana = "ミツビシユ－エフジエイ", branch_code = "001", branch_name_kana = "ホンテン", account_type = "ordinary", account_number = "12345", holder_kana = "シンジユクラーメン(カ" }
"#;

async fn switch() -> TestSwitch {
    spawn_with(Options {
        extra: SETTLEMENT.into(),
        ..Options::default()
    })
    .await
}

async fn client(switch: &TestSwitch) -> SettlementServiceClient<Channel> {
    SettlementServiceClient::connect(switch.url())
        .await
        .unwrap()
}

fn with_key<T>(message: T, key: Option<&str>) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Some(key) = key {
        request
            .metadata_mut()
            .insert("x-api-key", key.parse().unwrap());
    }
    request
}

fn op<T>(message: T) -> tonic::Request<T> {
    with_key(message, Some(OPERATOR_KEY))
}

fn reason(status: &tonic::Status) -> String {
    status
        .get_details_error_info()
        .map(|i| i.reason)
        .unwrap_or_default()
}

fn yen(value: &str) -> Option<pb::Money> {
    Some(pb::Money {
        value: value.into(),
        currency: "JPY".into(),
    })
}

#[tokio::test]
async fn the_operator_closes_the_day_and_reads_its_batch_balances_and_invoice() {
    let switch = switch().await;
    let mut till = switch.terminal().await;
    let wallet = support::linepay::wallet(&switch, 100_000);
    for (order, amount) in [("s-1", "1200"), ("s-2", "980"), ("s-3", "2450")] {
        let code = support::linepay::code(&switch, &wallet);
        let paid = till.pay(order, amount, "JPY", &code).await.unwrap();
        assert_eq!(paid.state, pb::PaymentState::Succeeded as i32, "{paid:?}");
    }
    let refund = till
        .refund("s-2", "s-2-r", Some(("200", "JPY")))
        .await
        .unwrap();
    assert_eq!(
        refund.refund.unwrap().state,
        pb::RefundState::Succeeded as i32
    );
    let today = BusinessDate::of_instant(kakehashi_adapter_core::SystemClock.now_ms())
        .unwrap()
        .to_string();
    let mut settlement = client(&switch).await;

    let closed = settlement
        .close_business_day(op(pb::CloseBusinessDayRequest {
            business_date: today.clone(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(closed.batches.len(), 1);
    assert!(closed.batches[0].closed_now);
    let batch = closed.batches[0].batch.clone().unwrap();
    assert_eq!(batch.batch_id, format!("linepay/{today}"));
    let line = &batch.lines[0];
    assert_eq!(line.merchant_id, "shinjuku-ramen");
    // 4,630 − 200 = 4,430 at 2.45 % = 108.535 → down → 108; tax 10; net 4,312.
    assert_eq!(
        (
            line.gross.clone(),
            line.refunds.clone(),
            line.fee.clone(),
            line.tax.clone(),
            line.net.clone()
        ),
        (yen("4630"), yen("200"), yen("108"), yen("10"), yen("4312"))
    );
    assert_eq!((line.payment_count, line.refund_count), (3, 1));
    assert_eq!(line.payment_ids.len(), 3, "a small batch lists its ids");
    assert_eq!(closed.payouts.len(), 1);
    assert_eq!(closed.payouts[0].amount, yen("4312"));

    // Idempotent: the day is closed once; the second call answers the same batch.
    let again = settlement
        .close_business_day(op(pb::CloseBusinessDayRequest {
            business_date: today.clone(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(!again.batches[0].closed_now);
    assert_eq!(again.batches[0].batch.as_ref(), Some(&batch));
    assert_eq!(again.payouts, closed.payouts);

    let read = settlement
        .get_batch(op(pb::GetBatchRequest {
            network: "linepay".into(),
            business_date: today.clone(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read.batch.as_ref(), Some(&batch));
    let listed = settlement
        .list_batches(op(pb::ListBatchesRequest {
            from_date: today.clone(),
            to_date: today.clone(),
            network: String::new(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.batches.len(), 1);
    assert!(
        listed.batches[0].lines.is_empty(),
        "listings carry totals only"
    );
    assert_eq!(listed.batches[0].totals, batch.totals);

    // Balances after everything posted (the payout is dated the day's last instant).
    let balances = settlement
        .get_balances(op(pb::GetBalancesRequest {
            as_of_ms: i64::MAX,
            account_prefix: String::new(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(!balances.truncated);
    let net: BTreeMap<String, i64> = balances
        .balances
        .iter()
        .map(|b| {
            (
                b.account.clone(),
                b.net.as_ref().unwrap().value.parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(net.values().sum::<i64>(), 0, "the ledger balances: {net:?}");
    assert_eq!(
        net.get("merchant_payable:shinjuku-ramen"),
        Some(&0),
        "the payout cleared what the merchant was owed: {net:?}"
    );
    assert_eq!(
        net.get("network_receivable:linepay"),
        Some(&4_430),
        "{net:?}"
    );
    let only = settlement
        .get_balances(op(pb::GetBalancesRequest {
            as_of_ms: i64::MAX,
            account_prefix: "network_receivable:".into(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(only.balances.len(), 1);

    let invoice = settlement
        .get_invoice(op(pb::GetInvoiceRequest {
            merchant_id: "shinjuku-ramen".into(),
            period_to: today.clone(),
        }))
        .await
        .unwrap()
        .into_inner()
        .invoice
        .unwrap();
    assert_eq!(invoice.registration_number, "T1180301018771");
    assert_eq!(
        (invoice.taxable_total, invoice.tax, invoice.tax_adjustment),
        (yen("108"), yen("10"), yen("0"))
    );
    assert!(invoice.text.contains("消費税 10"), "{}", invoice.text);
}

#[tokio::test]
async fn only_operators_may_call_and_bad_requests_are_named() {
    let switch = switch().await;
    let mut settlement = client(&switch).await;
    let request = |key| {
        with_key(
            pb::GetBalancesRequest {
                as_of_ms: 0,
                account_prefix: String::new(),
            },
            key,
        )
    };
    for (key, code, why) in [
        (Some(TILL_KEY), Code::PermissionDenied, "OPERATOR_ONLY"),
        (None, Code::Unauthenticated, "API_KEY_MISSING"),
        (
            Some("nobody-has-this-key-00"),
            Code::Unauthenticated,
            "API_KEY_INVALID",
        ),
    ] {
        let status = settlement.get_balances(request(key)).await.unwrap_err();
        assert_eq!((status.code(), reason(&status).as_str()), (code, why));
    }
    // A terminal's key cannot close a day either.
    let status = settlement
        .close_business_day(with_key(
            pb::CloseBusinessDayRequest {
                business_date: "2026-11-30".into(),
            },
            Some(TILL_KEY),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);

    let status = settlement
        .close_business_day(op(pb::CloseBusinessDayRequest {
            business_date: "2026-11-31".into(),
        }))
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), reason(&status).as_str()),
        (Code::InvalidArgument, "DATE_FORMAT")
    );
    assert_eq!(
        status.get_details_bad_request().unwrap().field_violations[0].field,
        "business_date"
    );
    let status = settlement
        .get_batch(op(pb::GetBatchRequest {
            network: "nope".into(),
            business_date: "2026-11-30".into(),
        }))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "NETWORK_UNKNOWN");
    let status = settlement
        .get_batch(op(pb::GetBatchRequest {
            network: "linepay".into(),
            business_date: "2026-11-30".into(),
        }))
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), reason(&status).as_str()),
        (Code::NotFound, "BATCH_NOT_FOUND")
    );
    let status = settlement
        .list_batches(op(pb::ListBatchesRequest {
            from_date: "2026-01-01".into(),
            to_date: "2027-06-01".into(),
            network: String::new(),
        }))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "RANGE_TOO_LARGE");
    let status = settlement
        .get_invoice(op(pb::GetInvoiceRequest {
            merchant_id: "osaka-sushi".into(),
            period_to: "2026-11-30".into(),
        }))
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), reason(&status).as_str()),
        (Code::InvalidArgument, "MERCHANT_UNKNOWN")
    );
}
