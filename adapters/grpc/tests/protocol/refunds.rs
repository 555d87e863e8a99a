//! Refunds at the partner: partial and full, never above what was captured, idempotent by
//! refund id, a lost reply found by QueryRefund, and the won given back adding up exactly.
use kakehashi_adapter_core::sim_control::SimulatorControl;
use kakehashi_adapter_core::simkit::Fault;
use kakehashi_adapter_core::{DeclineReason, PayOutcome, RefundOutcome};
use kakehashi_grpc::Operation;

use super::*;

fn refund_id(outcome: &RefundOutcome) -> String {
    match outcome {
        RefundOutcome::Succeeded { network_refund_id } => network_refund_id.clone(),
        other => panic!("refunded, not {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refunds_add_up_to_exactly_what_was_charged() {
    let w = world(kpay()).await;
    w.wallet("minji", "100000", "KRW");
    let paid = w.adapter.pay(&pay("Pay1", "1001", &w.code("minji"))).await;
    assert!(matches!(paid, PayOutcome::Succeeded(_)), "{paid:?}");
    assert_eq!(
        w.balance("minji"),
        "90791",
        "1001 yen at 9.2 is 9209.2, rounded to 9209 won"
    );

    let first = w
        .adapter
        .refund(&refund("Pay1", "Back1", "1001", "333"))
        .await;
    let first_id = refund_id(&first);
    assert_eq!(
        w.balance("minji"),
        "93855",
        "333 yen is 3063.6, 3064 won back"
    );
    // The same refund again is the same refund.
    assert_eq!(
        w.adapter
            .refund(&refund("Pay1", "Back1", "1001", "333"))
            .await,
        first
    );
    assert_eq!(w.balance("minji"), "93855");
    assert!(matches!(
        w.adapter
            .refund(&refund("Pay1", "Back1", "1001", "334"))
            .await,
        RefundOutcome::Declined {
            reason: DeclineReason::DuplicateOrder,
            ..
        }
    ));
    assert!(matches!(
        w.adapter.refund(&refund("Pay1", "TooMuch", "1001", "669")).await,
        RefundOutcome::Declined { reason: DeclineReason::RefundNotAllowed, ref network_code }
            if network_code == "AMOUNT_EXCEEDS_CAPTURED"
    ));
    let rest = w
        .adapter
        .refund(&refund("Pay1", "Back2", "1001", "668"))
        .await;
    assert_ne!(refund_id(&rest), first_id);
    assert_eq!(w.balance("minji"), "100000", "every won came back, no more");
    assert!(matches!(
        w.adapter
            .refund(&refund("Pay1", "Back3", "1001", "1"))
            .await,
        RefundOutcome::Declined {
            reason: DeclineReason::RefundNotAllowed,
            ..
        }
    ));

    let books = w.partner.state();
    let payment = books.payment("Pay1").unwrap();
    assert_eq!(payment.refunded.value_string(), "1001");
    assert_eq!(books.refunds.len(), 2);
    let back: i64 = books
        .refunds
        .iter()
        .map(|r| r.wallet_amount.unwrap().minor())
        .sum();
    assert_eq!(back, payment.wallet_amount.unwrap().minor());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_refund_reply_is_found_by_query_refund() {
    let w = world(kpay()).await;
    w.wallet("minji", "100000", "KRW");
    w.adapter.pay(&pay("Pay1", "1200", &w.code("minji"))).await;

    w.fault(Operation::Refund, Fault::HangAfterProcessing);
    let lost = w
        .adapter
        .refund(&refund("Pay1", "Back1", "1200", "200"))
        .await;
    assert!(matches!(lost, RefundOutcome::Unknown { .. }), "{lost:?}");
    let found = w
        .adapter
        .query_refund(&refund("Pay1", "Back1", "1200", "200"))
        .await;
    assert!(
        matches!(found, RefundOutcome::Succeeded { .. }),
        "{found:?}"
    );
    assert_eq!(w.balance("minji"), "90800", "refunded once");

    w.fault(Operation::Refund, Fault::Hang);
    let lost = w
        .adapter
        .refund(&refund("Pay1", "Back2", "1200", "200"))
        .await;
    assert!(matches!(lost, RefundOutcome::Unknown { .. }), "{lost:?}");
    assert!(matches!(
        w.adapter
            .query_refund(&refund("Pay1", "Back2", "1200", "200"))
            .await,
        RefundOutcome::NotTaken { .. }
    ));
    // Refunds are keyed by refund id, so the switch may send it again.
    let again = w
        .adapter
        .refund(&refund("Pay1", "Back2", "1200", "200"))
        .await;
    assert!(
        matches!(again, RefundOutcome::Succeeded { .. }),
        "{again:?}"
    );
    assert_eq!(w.balance("minji"), "92640");

    w.fault(Operation::QueryRefund, Fault::HttpStatus { status: 404 });
    assert!(matches!(
        w.adapter
            .query_refund(&refund("Pay1", "Back2", "1200", "200"))
            .await,
        RefundOutcome::Unknown { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_not_captured_cannot_be_refunded() {
    let w = world(kpay()).await;
    assert!(matches!(
        w.adapter.refund(&refund("Never1", "Back1", "1200", "200")).await,
        RefundOutcome::Declined { reason: DeclineReason::RefundNotAllowed, ref network_code }
            if network_code == "PAYMENT_NOT_FOUND"
    ));
    w.slow_wallet("slow", "100000", "KRW", 60_000);
    w.adapter.pay(&pay("Slow1", "1200", &w.code("slow"))).await;
    assert!(matches!(
        w.adapter.refund(&refund("Slow1", "Back1", "1200", "200")).await,
        RefundOutcome::Declined { reason: DeclineReason::RefundNotAllowed, ref network_code }
            if network_code == "PAYMENT_NOT_CAPTURED"
    ));
}
