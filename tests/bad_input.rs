//! Bad input, table-driven: each request gets the stated gRPC status, a message an integrator
//! can act on, the `google.rpc` details a client reads (ErrorInfo reason and domain, one
//! BadRequest field violation per invalid field, PreconditionFailure for state errors), and
//! nothing is written (no payment, no refund, no network call).
use kakehashi_proto::v1 as pb;
use kakehashi_proto::v1::acceptance_service_client::AcceptanceServiceClient;
use sqlx::Row;
use tonic::Code;
use tonic_types::StatusExt;

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
    name: String,
    key: Option<&'static str>,
    call: Call,
    code: Code,
    /// ErrorInfo.reason.
    reason: &'static str,
    /// BadRequest violations, `(field, reason)` in order; INVALID_ARGUMENT only.
    fields: Vec<(&'static str, &'static str)>,
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
        quote_id: String::new(),
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

fn cancel(order: &str) -> Call {
    Call::Cancel(pb::CancelPaymentRequest {
        merchant_order_id: order.into(),
        reason: String::new(),
    })
}

/// A bad field of an otherwise valid request from the till.
fn field(
    name: impl Into<String>,
    call: Call,
    (field, reason): (&'static str, &'static str),
    hint: &'static str,
) -> Case {
    Case {
        name: name.into(),
        key: Some(TILL_KEY),
        call,
        code: Code::InvalidArgument,
        reason,
        fields: vec![(field, reason)],
        hint,
    }
}

/// A well-formed request the switch refuses with `code` and `reason`.
fn refused(name: &str, call: Call, code: Code, reason: &'static str, hint: &'static str) -> Case {
    Case {
        name: name.into(),
        key: Some(TILL_KEY),
        call,
        code,
        reason,
        fields: vec![],
        hint,
    }
}

fn amount_cases(code: &str) -> Vec<Case> {
    let value = |name: &str, v: &str, currency: &str, reason, hint| {
        field(
            format!("{name} ({v:?} {currency})"),
            pay(
                &format!("bad-{}", name.replace(' ', "-")),
                v,
                currency,
                code,
            ),
            ("amount.value", reason),
            hint,
        )
    };
    vec![
        value(
            "zero",
            "0",
            "JPY",
            "AMOUNT_NOT_POSITIVE",
            "greater than zero",
        ),
        value("negative", "-100", "JPY", "AMOUNT_FORMAT", "no sign"),
        value(
            "JPY with decimals",
            "1200.5",
            "JPY",
            "AMOUNT_SCALE",
            "decimal places",
        ),
        value(
            "JPY with a zero decimal",
            "1200.0",
            "JPY",
            "AMOUNT_SCALE",
            "no decimal point",
        ),
        value(
            "JPY with two zero decimals",
            "100.00",
            "JPY",
            "AMOUNT_SCALE",
            "JPY",
        ),
        value(
            "leading space",
            " 1200",
            "JPY",
            "AMOUNT_FORMAT",
            "whitespace",
        ),
        value(
            "leading zero",
            "0100",
            "JPY",
            "AMOUNT_FORMAT",
            "leading zeros",
        ),
        value(
            "tab and newline",
            "\t100\n",
            "JPY",
            "AMOUNT_FORMAT",
            r"`\t100\n`",
        ),
        value(
            "not a number",
            "12a0",
            "JPY",
            "AMOUNT_FORMAT",
            "amount.value",
        ),
        value("exponent", "1e3", "JPY", "AMOUNT_FORMAT", "exponent"),
        value(
            "too large",
            "10000000000000000",
            "JPY",
            "AMOUNT_TOO_LARGE",
            "larger",
        ),
        field(
            "unknown currency",
            pay("bad-cur", "1200", "XYZ", code),
            ("amount.currency", "CURRENCY_UNKNOWN"),
            "ISO 4217",
        ),
        field(
            "missing amount",
            Call::Pay(pb::PayRequest {
                merchant_order_id: "bad-8".into(),
                amount: None,
                code: code.into(),
                description: String::new(),
                quote_id: String::new(),
            }),
            ("amount", "AMOUNT_REQUIRED"),
            "amount: is required",
        ),
    ]
}

fn code_cases(code: &str) -> Vec<Case> {
    let (head, tail) = code.split_at(6);
    let with = |name: &str, bad: String, hint| {
        field(
            format!("code {name}"),
            pay("bad-code", "1200", "JPY", &bad),
            ("code", "CODE_FORMAT"),
            hint,
        )
    };
    vec![
        with("missing", String::new(), "empty"),
        with("with letters", "90000000001234ABCDE".into(), "digits"),
        with("too long", "9".repeat(65), "8..=64"),
        with("too short", "1234567".into(), "8..=64"),
        with(
            "with an inner space",
            format!("{head} {tail}"),
            "whitespace",
        ),
        with("with a leading space", format!(" {code}"), "whitespace"),
        with("with a trailing space", format!("{code} "), "whitespace"),
        with("with a tab", format!("{head}\t{tail}"), "whitespace"),
        with(
            "with an inner CR/LF",
            format!("{head}\r\n{tail}"),
            "whitespace",
        ),
        with("with a leading LF", format!("\n{code}"), "whitespace"),
        with("with two trailing LFs", format!("{code}\n\n"), "whitespace"),
        with(
            "with a space before CR/LF",
            format!("{code} \r\n"),
            "whitespace",
        ),
        field(
            "code of no known network",
            pay("bad-13", "1200", "JPY", "5555555555555555555"),
            ("code", "CODE_UNROUTABLE"),
            "not belong",
        ),
    ]
}

fn key_and_text_cases(code: &str) -> Vec<Case> {
    let order = |name: &str, order: &str| {
        field(
            name,
            pay(order, "1200", "JPY", code),
            ("merchant_order_id", "ORDER_ID_FORMAT"),
            "merchant_order_id",
        )
    };
    vec![
        order("missing order id", ""),
        order("oversize order id", &"o".repeat(65)),
        order("order id with spaces", "order 1"),
        field(
            "oversize description",
            Call::Pay(pb::PayRequest {
                merchant_order_id: "bad-17".into(),
                amount: money("1200", "JPY"),
                code: code.into(),
                description: "x".repeat(129),
                quote_id: String::new(),
            }),
            ("description", "TEXT_FORMAT"),
            "description",
        ),
        field(
            "refund id in the switch's reserved space",
            refund("paid-order", "void:mine", None),
            ("refund_id", "REFUND_ID_RESERVED"),
            "reserved",
        ),
        field(
            "refund without refund_id",
            refund("paid-order", "", None),
            ("refund_id", "REFUND_ID_FORMAT"),
            "refund_id",
        ),
        field(
            "merchant QR on an unknown network",
            Call::Qr(pb::CreateMerchantQrRequest {
                merchant_order_id: "bad-30".into(),
                amount: money("1200", "JPY"),
                network: "nosuchpay".into(),
                description: String::new(),
                quote_id: String::new(),
                switch_code: false,
            }),
            ("network", "NETWORK_UNKNOWN"),
            "unknown network",
        ),
    ]
}

fn refused_cases(code: &str) -> Vec<Case> {
    let unauthenticated = |name: &str, key, reason, hint| Case {
        key,
        ..refused(
            name,
            pay("bad-19", "1200", "JPY", code),
            Code::Unauthenticated,
            reason,
            hint,
        )
    };
    let not_found = |name: &str, call| {
        refused(
            name,
            call,
            Code::NotFound,
            "PAYMENT_NOT_FOUND",
            "no-such-order",
        )
    };
    let get = |order: &str| {
        Call::Get(pb::GetPaymentRequest {
            merchant_order_id: order.into(),
        })
    };
    let precondition = |name: &str, call, reason, hint| {
        refused(name, call, Code::FailedPrecondition, reason, hint)
    };
    vec![
        unauthenticated("no API key", None, "API_KEY_MISSING", "x-api-key"),
        unauthenticated(
            "wrong API key",
            Some("not-a-real-key-000000"),
            "API_KEY_INVALID",
            "API key",
        ),
        refused(
            "conflicting replay",
            pay("paid-order", "1300", "JPY", code),
            Code::AlreadyExists,
            "IDEMPOTENCY_CONFLICT",
            "already used",
        ),
        not_found(
            "refund of an unknown payment",
            refund("no-such-order", "r-1", None),
        ),
        not_found("get an unknown payment", get("no-such-order")),
        Case {
            key: Some(OTHER_TILL_KEY),
            hint: "paid-order",
            ..not_found("another merchant's payment", get("paid-order"))
        },
        not_found("cancel an unknown payment", cancel("no-such-order")),
        precondition(
            "currency the network cannot take",
            pay("bad-18", "12.00", "USD", code),
            "CURRENCY_NOT_SUPPORTED",
            "USD",
        ),
        precondition(
            "refund over the captured amount",
            refund("paid-order", "r-over", money("1201", "JPY")),
            "REFUND_EXCEEDS",
            "exceeds",
        ),
        precondition(
            "refund in another currency",
            refund("paid-order", "r-usd", money("1.00", "USD")),
            "REFUND_CURRENCY_MISMATCH",
            "currency",
        ),
        precondition(
            "merchant QR on a network without one",
            Call::Qr(pb::CreateMerchantQrRequest {
                merchant_order_id: "bad-29".into(),
                amount: money("1200", "JPY"),
                network: "linepay".into(),
                description: String::new(),
                quote_id: String::new(),
                switch_code: false,
            }),
            "OPERATION_NOT_SUPPORTED",
            "merchant-presented",
        ),
        precondition(
            "cancel a declined payment",
            cancel("declined-order"),
            "PAYMENT_STATE",
            "DECLINED",
        ),
        precondition(
            "refund a declined payment",
            refund("declined-order", "r-declined", money("100", "JPY")),
            "PAYMENT_STATE",
            "DECLINED",
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

/// What a client must read from a refusal.
struct Expected<'a> {
    name: &'a str,
    code: Code,
    reason: &'a str,
    fields: &'a [(&'a str, &'a str)],
    hint: &'a str,
}

/// The details every refusal carries, checked against the case.
fn assert_details(case: &Expected<'_>, status: &tonic::Status) {
    let name = case.name;
    let info = status
        .get_details_error_info()
        .unwrap_or_else(|| panic!("{name}: no ErrorInfo"));
    assert_eq!(info.domain, "kakehashi.v1", "{name}");
    assert_eq!(info.reason, case.reason, "{name}: {}", status.message());
    let fields: Vec<(String, String)> = status
        .get_details_bad_request()
        .map(|bad| {
            bad.field_violations
                .into_iter()
                .map(|v| (v.field, v.reason))
                .collect()
        })
        .unwrap_or_default();
    let want: Vec<(String, String)> = case
        .fields
        .iter()
        .map(|(f, r)| ((*f).to_owned(), (*r).to_owned()))
        .collect();
    assert_eq!(fields, want, "{name}: field violations");
    let precondition = status.get_details_precondition_failure();
    if case.code == Code::FailedPrecondition {
        let violations = precondition.expect("PreconditionFailure").violations;
        assert_eq!(violations.len(), 1, "{name}");
        assert_eq!(violations[0].r#type, case.reason, "{name}");
        assert!(violations[0].description.contains(case.hint), "{name}");
    } else {
        assert!(
            precondition.is_none(),
            "{name}: unexpected PreconditionFailure"
        );
    }
}

#[tokio::test]
async fn every_bad_request_gets_its_status_and_details_and_writes_nothing() {
    let switch = spawn_switch().await;
    let wallet = lp::wallet(&switch, 10_000);
    let code = lp::code(&switch, &wallet);
    let mut till = switch.terminal().await;
    till.pay("paid-order", "1200", "JPY", &code).await.unwrap();
    let short = lp::wallet(&switch, 500);
    let declined = till
        .pay("declined-order", "1200", "JPY", &lp::code(&switch, &short))
        .await
        .unwrap();
    assert_eq!(declined.state, pb::PaymentState::Declined as i32);
    let fresh_code = lp::code(&switch, &wallet);
    let store = switch.store().await;
    let before = counts(&store).await;
    let seen_before = lp::pay_requests_seen(&switch);
    let mut client = AcceptanceServiceClient::connect(switch.url())
        .await
        .unwrap();

    let mut table = amount_cases(&fresh_code);
    table.extend(code_cases(&fresh_code));
    table.extend(key_and_text_cases(&fresh_code));
    table.extend(refused_cases(&fresh_code));
    assert!(table.len() >= 40, "{} cases", table.len());
    for case in table {
        let status = send(&mut client, case.key, case.call)
            .await
            .map(|()| panic!("{}: accepted", case.name))
            .unwrap_err();
        let case = Expected {
            name: &case.name,
            code: case.code,
            reason: case.reason,
            fields: &case.fields,
            hint: case.hint,
        };
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
        let (head, tail) = fresh_code.split_at(fresh_code.len() - 8);
        assert!(
            !status.message().contains(&head[..8]) && !status.message().contains(tail),
            "{}: the message echoes the code",
            case.name
        );
        assert_details(&case, &status);
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
async fn one_answer_names_every_invalid_field() {
    let switch = spawn_switch().await;
    let mut client = AcceptanceServiceClient::connect(switch.url())
        .await
        .unwrap();
    let cases = [
        Case {
            fields: vec![
                ("merchant_order_id", "ORDER_ID_FORMAT"),
                ("amount.value", "AMOUNT_FORMAT"),
                ("code", "CODE_FORMAT"),
                ("description", "TEXT_FORMAT"),
            ],
            ..field(
                "a pay wrong in four fields",
                Call::Pay(pb::PayRequest {
                    merchant_order_id: "order 1".into(),
                    amount: money("0100", "JPY"),
                    code: "1234 5678 9012".into(),
                    description: "line\nbreak".into(),
                    quote_id: String::new(),
                }),
                ("merchant_order_id", "ORDER_ID_FORMAT"),
                "description",
            )
        },
        Case {
            fields: vec![
                ("amount.currency", "CURRENCY_UNKNOWN"),
                ("amount.value", "AMOUNT_FORMAT"),
            ],
            ..field(
                "an amount wrong in value and currency",
                pay("order-2", "12a", "XYZ", "900000000012345678"),
                ("amount.currency", "CURRENCY_UNKNOWN"),
                "not an exact decimal",
            )
        },
        Case {
            fields: vec![
                ("merchant_order_id", "ORDER_ID_FORMAT"),
                ("refund_id", "REFUND_ID_RESERVED"),
                ("amount.value", "AMOUNT_SCALE"),
                ("reason", "TEXT_FORMAT"),
            ],
            ..field(
                "a refund wrong in four fields",
                Call::Refund(pb::RefundPaymentRequest {
                    merchant_order_id: String::new(),
                    refund_id: "void:x".into(),
                    amount: money("1.5", "JPY"),
                    reason: "r".repeat(129),
                }),
                ("merchant_order_id", "ORDER_ID_FORMAT"),
                "reserved",
            )
        },
        Case {
            fields: vec![
                ("amount", "AMOUNT_REQUIRED"),
                ("network", "NETWORK_UNKNOWN"),
            ],
            ..field(
                "a merchant QR without amount or network",
                Call::Qr(pb::CreateMerchantQrRequest {
                    merchant_order_id: "qr-1".into(),
                    amount: None,
                    network: String::new(),
                    description: String::new(),
                    quote_id: String::new(),
                    switch_code: false,
                }),
                ("amount", "AMOUNT_REQUIRED"),
                "name the network",
            )
        },
    ];
    for case in cases {
        let status = send(&mut client, case.key, case.call)
            .await
            .map(|()| panic!("{}: accepted", case.name))
            .unwrap_err();
        let case = Expected {
            name: &case.name,
            code: case.code,
            reason: case.reason,
            fields: &case.fields,
            hint: case.hint,
        };
        assert_eq!(status.code(), Code::InvalidArgument, "{}", case.name);
        assert!(status.message().contains(case.hint), "{}", status.message());
        assert_details(&case, &status);
        let info = status.get_details_error_info().unwrap();
        assert_eq!(info.metadata["field"], case.fields[0].0, "{}", case.name);
    }
}

#[tokio::test]
async fn a_scanners_trailing_line_break_is_removed_and_the_payment_goes_through() {
    let switch = spawn_switch().await;
    let wallet = lp::wallet(&switch, 10_000);
    let mut till = switch.terminal().await;
    for (order, end) in [("scan-crlf", "\r\n"), ("scan-lf", "\n"), ("scan-cr", "\r")] {
        let code = lp::code(&switch, &wallet);
        let paid = till
            .pay(order, "1000", "JPY", &format!("{code}{end}"))
            .await
            .unwrap();
        assert_eq!(paid.state, pb::PaymentState::Succeeded as i32, "{order}");
        assert_eq!(paid.code_masked, format!("••••{}", &code[code.len() - 4..]));
    }
    assert_eq!(lp::balance(&switch, &wallet), 7_000);
}

#[tokio::test]
async fn an_oversize_request_is_resource_exhausted_and_never_read() {
    let switch = spawn_switch().await;
    let mut client = AcceptanceServiceClient::connect(switch.url())
        .await
        .unwrap();
    let megabyte = 1024 * 1024;
    let big_order_id = pb::PayRequest {
        merchant_order_id: "o".repeat(megabyte),
        amount: money("1", "JPY"),
        code: "9".repeat(20),
        description: String::new(),
        quote_id: String::new(),
    };
    let big_description = pb::PayRequest {
        merchant_order_id: "huge".into(),
        description: "x".repeat(megabyte),
        ..big_order_id.clone()
    };
    for request in [big_order_id, big_description] {
        let status = send(&mut client, Some(TILL_KEY), Call::Pay(request))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
        assert!(status.message().contains("larger than this switch accepts"));
        let info = status.get_details_error_info().expect("ErrorInfo");
        assert_eq!(
            (info.reason.as_str(), info.domain.as_str()),
            ("MESSAGE_TOO_LARGE", "kakehashi.v1")
        );
    }
    let store = switch.store().await;
    assert_eq!(counts(&store).await, (0, 0, 0));
}

/// Sends bytes as they are, as a client with a wrong or broken schema would.
#[derive(Debug, Clone, Default)]
struct RawBytes;

impl tonic::codec::Codec for RawBytes {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawBytes;
    type Decoder = RawBytes;
    fn encoder(&mut self) -> RawBytes {
        RawBytes
    }
    fn decoder(&mut self) -> RawBytes {
        RawBytes
    }
}

impl tonic::codec::Encoder for RawBytes {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(
        &mut self,
        item: Vec<u8>,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        use prost::bytes::BufMut;
        dst.put_slice(&item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawBytes {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<Vec<u8>>, tonic::Status> {
        use prost::bytes::Buf;
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}

#[tokio::test]
async fn bytes_that_are_not_the_request_message_are_invalid_argument() {
    let switch = spawn_switch().await;
    let channel = tonic::transport::Channel::from_shared(switch.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let garbage: [(&str, &str, &[u8]); 4] = [
        ("Pay", "a truncated varint", &[0xff, 0xff, 0xff]),
        ("Pay", "a length past the end", &[0x0a, 0x10, b'a']),
        (
            "GetPayment",
            "an order id that is not UTF-8",
            &[0x0a, 0x02, 0xc3, 0x28],
        ),
        ("CancelPayment", "a group that never ends", &[0x0b]),
    ];
    for (rpc, name, bytes) in garbage {
        let mut grpc = tonic::client::Grpc::new(channel.clone());
        grpc.ready().await.unwrap();
        let path = format!("/kakehashi.v1.AcceptanceService/{rpc}");
        let mut request = tonic::Request::new(bytes.to_vec());
        request
            .metadata_mut()
            .insert("x-api-key", TILL_KEY.parse().unwrap());
        let status = grpc
            .unary(request, path.parse().unwrap(), RawBytes)
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{name}: {status:?}");
        assert!(
            status.message().contains("not a valid protobuf message"),
            "{name}: {}",
            status.message()
        );
        let info = status.get_details_error_info().expect("ErrorInfo");
        assert_eq!(info.reason, "MESSAGE_MALFORMED", "{name}");
        assert_eq!(info.domain, "kakehashi.v1", "{name}");
    }
    let store = switch.store().await;
    assert_eq!(counts(&store).await, (0, 0, 0));
}
