//! A payment refused by each kind of rule, as the terminal hears it: a gRPC status whose
//! `ErrorInfo.reason` names the rule, with a message saying what to do, and never the code.
use kakehashi::payments::PayError;
use kakehashi::routing::rules::{DecisionInput, Outcome};
use kakehashi::routing::{Compliance, RuleId, evaluate};
use kakehashi_adapter_core::{Money, PaymentCode};
use tonic::Code;
use tonic_types::StatusExt;

use super::fixture::{self, DAY_START_MS};

const CODE: &str = "900081818812345678904821";

/// A PayPay payment at the ramen shop's first till, with `counted` payments already
/// counted in every window under its code and its terminal.
fn paypay(compliance: &Compliance, amount: Money, counted: u64, summed_yen: i64) -> DecisionInput {
    let code = PaymentCode::parse(CODE).unwrap();
    let route = fixture::code_table().route(&code).unwrap();
    let window = |window_ms| kakehashi::routing::rules::WindowCount {
        window_ms,
        count: counted,
        sum: (amount.currency(), summed_yen),
    };
    DecisionInput {
        at_ms: DAY_START_MS + 3_600_000,
        merchant_id: "shinjuku-ramen".into(),
        merchant_category_code: "5812".into(),
        terminal_id: "ramen-1".into(),
        amount,
        network: route.network.clone(),
        code: Some(route),
        velocity: kakehashi::routing::rules::VelocityObserved {
            code: compliance
                .rules()
                .code_windows_ms()
                .into_iter()
                .map(window)
                .collect(),
            terminal: compliance
                .rules()
                .terminal_windows_ms()
                .into_iter()
                .map(window)
                .collect(),
        },
    }
}

fn jpy(value: &str) -> Money {
    Money::parse(value, "JPY").unwrap()
}

#[test]
fn each_rule_kind_refuses_with_a_status_that_names_the_rule() {
    let compliance = Compliance::from_config(&fixture::config(500_000)).unwrap();
    let ok = paypay(&compliance, jpy("1200"), 0, 0);
    assert_eq!(
        evaluate(compliance.rules(), &ok).outcome,
        Outcome::Routed {
            network: "paypay".into()
        }
    );

    let cases: Vec<(RuleId, DecisionInput, Code, &str, &str)> = vec![
        (
            RuleId::MerchantBlocked,
            DecisionInput {
                merchant_id: "closed-shop".into(),
                terminal_id: "closed-1".into(),
                ..ok.clone()
            },
            Code::PermissionDenied,
            "RULE_MERCHANT_BLOCKED",
            "contact them",
        ),
        (
            RuleId::TerminalBlocked,
            DecisionInput {
                terminal_id: "ramen-old".into(),
                ..ok.clone()
            },
            Code::PermissionDenied,
            "RULE_TERMINAL_BLOCKED",
            "blocked this terminal",
        ),
        (
            RuleId::MerchantNetwork,
            // A merchant-presented QR on a network the ramen shop has not signed up for.
            DecisionInput {
                network: "alipayplus".into(),
                code: None,
                ..ok.clone()
            },
            Code::PermissionDenied,
            "RULE_MERCHANT_NETWORK",
            "a wallet this merchant accepts",
        ),
        (
            RuleId::Currency,
            paypay(&compliance, Money::parse("25.00", "USD").unwrap(), 0, 0),
            Code::FailedPrecondition,
            "RULE_CURRENCY",
            "paypay takes only JPY, not USD",
        ),
        (
            RuleId::NetworkLimit,
            paypay(&compliance, jpy("500001"), 0, 0),
            Code::FailedPrecondition,
            "RULE_NETWORK_LIMIT",
            "charge a smaller amount",
        ),
        (
            RuleId::Mcc,
            DecisionInput {
                merchant_id: "kabukicho-games".into(),
                merchant_category_code: "7995".into(),
                terminal_id: "games-1".into(),
                ..ok.clone()
            },
            Code::PermissionDenied,
            "RULE_MCC",
            "paypay does not take merchant category 7995",
        ),
        (
            RuleId::VelocityCode,
            paypay(&compliance, jpy("1200"), 3, 3_600),
            Code::FailedPrecondition,
            "RULE_VELOCITY_CODE",
            "show a fresh code",
        ),
        (
            RuleId::VelocityTerminal,
            DecisionInput {
                velocity: paypay(&compliance, jpy("1200"), 0, 2_999_000).velocity,
                ..ok.clone()
            },
            Code::FailedPrecondition,
            "RULE_VELOCITY_TERMINAL",
            "over JPY 3000000",
        ),
    ];
    for (rule, input, code, reason, said) in cases {
        let decision = evaluate(compliance.rules(), &input);
        let (refused_by, detail) = decision.refusal().expect("refused");
        assert_eq!(refused_by, rule);
        let status = tonic::Status::from(PayError::RuleRefused {
            rule,
            detail: detail.to_owned(),
            payment_id: "pay_refused".into(),
        });
        assert_eq!(status.code(), code, "{rule}: {status:?}");
        let info = status.get_details_error_info().expect("ErrorInfo");
        assert_eq!(info.reason, reason);
        assert_eq!(info.domain, "kakehashi.v1");
        assert_eq!(
            info.metadata.get("rule").map(String::as_str),
            Some(rule.as_str())
        );
        assert_eq!(
            info.metadata.get("payment_id").map(String::as_str),
            Some("pay_refused"),
            "the refusal names the payment id its decision is logged under"
        );
        let message = status.message();
        assert!(
            message.starts_with(&format!("refused by compliance rule {rule}: ")),
            "{message}"
        );
        assert!(message.contains(said), "{rule}: {message}");
        assert!(!message.contains("12345678"), "{message}");
        if code == Code::FailedPrecondition {
            let failure = status
                .get_details_precondition_failure()
                .expect("PreconditionFailure");
            assert_eq!(failure.violations[0].r#type, reason);
        }
    }
}
