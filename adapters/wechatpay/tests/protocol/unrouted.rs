//! A request no WeChat Pay API took (HTTP 404 or 405: WeChat Pay answers its APIs with HTTP
//! 200 and XML, refusals included) was not processed: a micropay or refund is declined at
//! once as NETWORK_UNSUPPORTED; orderquery, reverse and refundquery keep their meaning.
use super::*;

#[tokio::test]
async fn a_micropay_that_reached_no_api_is_declined_at_once() {
    let w = world().await;
    w.control
        .add_wallet(&wallet("li", WalletKind::Mainland, 1_000_000, None))
        .unwrap();
    let code = w.control.issue_code("li").unwrap();
    let astray = adapter_at(&w, &format!("{}/not-wechat-pay", w.sim.base_url));

    assert_eq!(
        astray.pay(&pay("U1", "100", &code)).await,
        PayOutcome::Declined {
            reason: DeclineReason::NetworkUnsupported,
            network_code: "HTTP 404".into()
        }
    );
    assert_eq!(
        astray.refund(&refund("U1", "U1R", "100", "100")).await,
        RefundOutcome::Declined {
            reason: DeclineReason::NetworkUnsupported,
            network_code: "HTTP 404".into()
        }
    );
    assert!(matches!(
        astray.query(&query("U1", "100")).await,
        PayOutcome::Unknown { .. }
    ));
    assert!(matches!(
        astray
            .query_refund(&refund("U1", "U1R", "100", "100"))
            .await,
        RefundOutcome::Unknown { .. }
    ));
    w.clock.advance_ms(16_000);
    assert!(matches!(
        astray.reverse(&reverse("U1", "100", START_MS)).await,
        ReverseOutcome::Retry { .. }
    ));
    assert!(w.control.order("U1").is_none());
    assert_eq!(w.control.balance("li"), Some(1_000_000));

    // A 5xx is still unknown.
    w.control.inject(
        Some(Operation::Micropay),
        Fault::HttpStatus { status: 502 },
        Some(1),
    );
    assert!(matches!(
        w.adapter.pay(&pay("U2", "100", &code)).await,
        PayOutcome::Unknown { .. }
    ));
}
