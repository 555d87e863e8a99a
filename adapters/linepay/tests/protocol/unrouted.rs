//! A request that reached no LINE Pay API (HTTP 404 or 405: LINE Pay answers every API
//! call, refusals included, with HTTP 200) was not processed: a pay or refund is declined
//! at once as NETWORK_UNSUPPORTED; a query, check or void keeps its "unknown" meaning.
use super::*;

#[tokio::test]
async fn a_pay_that_reached_no_api_is_declined_at_once() {
    let w = world().await;
    // A base URL with a path LINE Pay does not serve, as a misconfiguration would give.
    let astray = adapter_at(&w, &format!("{}/not-line-pay", w.sim.base_url));
    w.control.add_wallet(&jpy_wallet("w", 1_000)).unwrap();
    let code = w.control.issue_code("w").unwrap();

    assert_eq!(
        declined(&astray.pay(&pay("U1", "100", &code)).await),
        (DeclineReason::NetworkUnsupported, "HTTP 404".into())
    );
    assert_eq!(
        astray
            .refund(&refund_known("U1", "R1", "100", "100", &[]))
            .await,
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
            .query_refund(&refund_known("U1", "R1", "100", "100", &[]))
            .await,
        RefundOutcome::Unknown { .. }
    ));
    assert!(matches!(
        astray.reverse(&reverse("U1", "100")).await,
        ReverseOutcome::Retry { .. }
    ));
    assert_eq!(w.control.balance("w"), Some(yen(1_000)));
    assert_eq!(w.control.pay_requests_seen(), 0);

    // The same code still pays through the right address: nothing was used up.
    assert!(matches!(
        w.adapter.pay(&pay("U1", "100", &code)).await,
        PayOutcome::Succeeded(_)
    ));
}

#[tokio::test]
async fn a_5xx_or_a_timeout_is_still_unknown() {
    let w = world().await;
    w.control.add_wallet(&jpy_wallet("w", 1_000)).unwrap();
    for fault in [
        Fault::HttpStatus { status: 500 },
        Fault::HttpStatus { status: 503 },
        Fault::Hang,
    ] {
        w.control
            .inject(Some(Operation::Pay), fault.clone(), Some(1));
        let code = w.control.issue_code("w").unwrap();
        assert!(
            matches!(
                w.adapter.pay(&pay("U2", "100", &code)).await,
                PayOutcome::Unknown { .. }
            ),
            "{fault:?}"
        );
    }
}
