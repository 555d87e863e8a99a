//! Bad input, table-driven: each request gets the stated gRPC status with a message an
//! integrator can act on, and nothing is written (no payment, no refund, no network call).
use kakehashi_proto::v1 as pb;
use kakehashi_proto::v1::acceptance_service_client::AcceptanceServiceClient;
use sqlx::Row;
use tonic::Code;

mod support;
use support::linepay as lp;
use support::switch::{OTHER_TILL_KEY, TILL_KEY, spawn_switch};

enum Call {
    Pay(pb::PayRequest),
    Refund(pb::RefundPaymentRequest),
    Get(pb::GetPaymentRequest),
    Cancel(pb::CancelPaymentRequest),
    Qr(pb::CreateMerchantQrRequest),
}

struct Case {
    name: &'static str,
    key: Option<&'static str>,
    call: Call,
    code: Code,
    /// A word the message must contain, so it tells the integrator what to fix.
    hint: &'static str,
}

fn money(value: &str, currency: &str) -> Option<pb::Money> {
    Some(pb::Money {
        value: value.into(),
        currency: currency.into(),
    })
}

fn pay(order: &str, value: &str, currency: &str, code: &str) -> Call {
    Call::Pay(pb::PayRequest {
        merchant_order_id: order.into(),
        amount: money(value, currency),
        code: code.into(),
        description: String::new(),
    })
}

fn refund(order: &str, refund_id: &str, amount: Option<pb::Money>) -> Call {
    Call::Refund(pb::RefundPaymentRequest {
        merchant_order_id: order.into(),
        refund_id: refund_id.into(),
        amount,
        reason: String::new(),
    })
}

fn cases(code: &str) -> Vec<Case> {
    let ok = |name, call, code, hint| Case {
        name,
        key: Some(TILL_KEY),
        call,
        code,
        hint,
    };
    let long_code = "9".repeat(65);
    vec![
        ok(
            "zero amount",
            pay("bad-1", "0", "JPY", code),
            Code::InvalidArgument,
            "greater than zero",
        ),
        ok(
            "negative amount",
            pay("bad-2", "-100", "JPY", code),
            Code::InvalidArgument,
            "greater than zero",
        ),
        ok(
            "JPY with decimals",
            pay("bad-3", "1200.5", "JPY", code),
            Code::InvalidArgument,
            "decimal places",
        ),
        ok(
            "unknown currency",
            pay("bad-4", "1200", "XYZ", code),
            Code::InvalidArgument,
            "ISO 4217",
        ),
        ok(
            "amount not a number",
            pay("bad-5", "12a0", "JPY", code),
            Code::InvalidArgument,
            "amount.value",
        ),
        ok(
            "amount with exponent",
            pay("bad-6", "1e3", "JPY", code),
            Code::InvalidArgument,
            "amount.value",
        ),
        ok(
            "amount too large",
            pay("bad-7", "10000000000000000", "JPY", code),
            Code::InvalidArgument,
            "larger",
        ),
        ok(
            "missing amount",
            Call::Pay(pb::PayRequest {
                merchant_order_id: "bad-8".into(),
                amount: None,
                code: code.into(),
                description: String::new(),
            }),
            Code::InvalidArgument,
            "amount: is required",
        ),
        ok(
            "missing code",
            pay("bad-9", "1200", "JPY", ""),
            Code::InvalidArgument,
            "code",
        ),
        ok(
            "code with letters",
            pay("bad-10", "1200", "JPY", "90000000001234ABCDE"),
            Code::InvalidArgument,
            "digits",
        ),
        ok(
            "oversize code",
            pay("bad-11", "1200", "JPY", &long_code),
            Code::InvalidArgument,
            "code",
        ),
        ok(
            "too short code",
            pay("bad-12", "1200", "JPY", "1234567"),
            Code::InvalidArgument,
            "code",
        ),
        ok(
            "code of no known network",
            pay("bad-13", "1200", "JPY", "5555555555555555555"),
            Code::InvalidArgument,
            "not belong",
        ),
        ok(
            "missing order id",
            pay("", "1200", "JPY", code),
            Code::InvalidArgument,
            "merchant_order_id",
        ),
        ok(
            "oversize order id",
            pay(&"o".repeat(65), "1200", "JPY", code),
            Code::InvalidArgument,
            "merchant_order_id",
        ),
        ok(
            "order id with spaces",
            pay("order 1", "1200", "JPY", code),
            Code::InvalidArgument,
            "merchant_order_id",
        ),
        ok(
            "oversize description",
            Call::Pay(pb::PayRequest {
                merchant_order_id: "bad-17".into(),
                amount: money("1200", "JPY"),
                code: code.into(),
                description: "x".repeat(129),
            }),
            Code::InvalidArgument,
            "description",
        ),
        ok(
            "currency the network cannot take",
            pay("bad-18", "12.00", "USD", code),
            Code::FailedPrecondition,
            "USD",
        ),
        Case {
            name: "no API key",
            key: None,
            call: pay("bad-19", "1200", "JPY", code),
            code: Code::Unauthenticated,
            hint: "x-api-key",
        },
        Case {
            name: "wrong API key",
            key: Some("not-a-real-key-000000"),
            call: pay("bad-20", "1200", "JPY", code),
            code: Code::Unauthenticated,
            hint: "API key",
        },
        ok(
            "conflicting replay",
            pay("paid-order", "1300", "JPY", code),
            Code::AlreadyExists,
            "already used",
        ),
        ok(
            "refund id in the switch's reserved space",
            refund("paid-order", "void:mine", None),
            Code::InvalidArgument,
            "reserved",
        ),
        ok(
            "refund over the captured amount",
            refund("paid-order", "r-over", money("1201", "JPY")),
            Code::FailedPrecondition,
            "exceeds",
        ),
        ok(
            "refund in another currency",
            refund("paid-order", "r-usd", money("1.00", "USD")),
            Code::FailedPrecondition,
            "currency",
        ),
        ok(
            "refund without refund_id",
            refund("paid-order", "", None),
            Code::InvalidArgument,
            "refund_id",
        ),
        ok(
            "refund of an unknown payment",
            refund("no-such-order", "r-1", None),
            Code::NotFound,
            "no-such-order",
        ),
        ok(
            "get an unknown payment",
            Call::Get(pb::GetPaymentRequest {
                merchant_order_id: "no-such-order".into(),
            }),
            Code::NotFound,
            "no-such-order",
        ),
        Case {
            name: "another merchant's payment",
            key: Some(OTHER_TILL_KEY),
            call: Call::Get(pb::GetPaymentRequest {
                merchant_order_id: "paid-order".into(),
            }),
            code: Code::NotFound,
            hint: "paid-order",
        },
        ok(
            "cancel an unknown payment",
            Call::Cancel(pb::CancelPaymentRequest {
                merchant_order_id: "nope".into(),
                reason: String::new(),
            }),
            Code::NotFound,
            "nope",
        ),
        ok(
            "merchant QR on a network without one",
            Call::Qr(pb::CreateMerchantQrRequest {
                merchant_order_id: "bad-29".into(),
                amount: money("1200", "JPY"),
                network: "linepay".into(),
                description: String::new(),
            }),
            Code::FailedPrecondition,
            "merchant-presented",
        ),
        ok(
            "merchant QR on an unknown network",
            Call::Qr(pb::CreateMerchantQrRequest {
                merchant_order_id: "bad-30".into(),
                amount: money("1200", "JPY"),
                network: "nosuchpay".into(),
                description: String::new(),
            }),
            Code::InvalidArgument,
            "unknown network",
        ),
    ]
}

async fn send(
    client: &mut AcceptanceServiceClient<tonic::transport::Channel>,
    key: Option<&str>,
    call: Call,
) -> Result<(), tonic::Status> {
    fn req<T>(key: Option<&str>, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        if let Some(key) = key {
            request
                .metadata_mut()
                .insert("x-api-key", key.parse().expect("ascii key"));
        }
        request
    }
    match call {
        Call::Pay(m) => client.pay(req(key, m)).await.map(drop),
        Call::Refund(m) => client.refund_payment(req(key, m)).await.map(drop),
        Call::Get(m) => client.get_payment(req(key, m)).await.map(drop),
        Call::Cancel(m) => client.cancel_payment(req(key, m)).await.map(drop),
        Call::Qr(m) => client.create_merchant_qr(req(key, m)).await.map(drop),
    }
}

async fn counts(store: &kakehashi::store::SqlStore) -> (i64, i64, i64) {
    let one = |sql: &'static str| async move {
        sqlx::query(sql)
            .fetch_one(store.pool())
            .await
            .expect("count")
            .try_get::<i64, _>(0)
            .expect("int")
    };
    (
        one("SELECT CAST(COUNT(*) AS BIGINT) FROM payments").await,
        one("SELECT CAST(COUNT(*) AS BIGINT) FROM refunds").await,
        one("SELECT CAST(COUNT(*) AS BIGINT) FROM payment_transitions").await,
    )
}

#[tokio::test]
async fn every_bad_request_gets_its_status_and_writes_nothing() {
    let switch = spawn_switch().await;
    let wallet = lp::wallet(&switch, 10_000);
    let code = lp::code(&switch, &wallet);
    let mut till = switch.terminal().await;
    till.pay("paid-order", "1200", "JPY", &code).await.unwrap();
    let fresh_code = lp::code(&switch, &wallet);
    let store = switch.store().await;
    let before = counts(&store).await;
    let seen_before = lp::pay_requests_seen(&switch);
    let mut client = AcceptanceServiceClient::connect(switch.url())
        .await
        .unwrap();

    let table = cases(&fresh_code);
    assert!(table.len() >= 20);
    for case in table {
        let status = send(&mut client, case.key, case.call)
            .await
            .expect_err(case.name);
        assert_eq!(
            status.code(),
            case.code,
            "{}: {}",
            case.name,
            status.message()
        );
        assert!(
            status.message().contains(case.hint),
            "{}: message `{}` lacks `{}`",
            case.name,
            status.message(),
            case.hint
        );
        assert!(
            !status.message().contains(&fresh_code),
            "{}: the message echoes the code",
            case.name
        );
        assert_eq!(
            counts(&store).await,
            before,
            "{}: something was written",
            case.name
        );
    }
    assert_eq!(
        lp::pay_requests_seen(&switch),
        seen_before,
        "no bad request reached the network"
    );
    assert_eq!(lp::balance(&switch, &wallet), 8_800);
}

#[tokio::test]
async fn an_oversize_request_is_refused_before_it_is_read() {
    let switch = spawn_switch().await;
    let mut client = AcceptanceServiceClient::connect(switch.url())
        .await
        .unwrap();
    let huge = pb::PayRequest {
        merchant_order_id: "huge".into(),
        amount: money("1", "JPY"),
        code: "9".repeat(20),
        description: "x".repeat(64 * 1024),
    };
    let status = send(&mut client, Some(TILL_KEY), Call::Pay(huge))
        .await
        .unwrap_err();
    assert_ne!(status.code(), Code::Ok);
    assert!(
        matches!(
            status.code(),
            Code::OutOfRange | Code::ResourceExhausted | Code::InvalidArgument
        ),
        "{status:?}"
    );
}
