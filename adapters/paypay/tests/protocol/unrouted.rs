//! A request no PayPay API took was not processed. PayPay itself has no scan API (the scan
//! path is a Kakehashi extension), so a PayPay that does not serve it answers
//! `404 NOT_FOUND "no such API"`: the pay is declined at once as NETWORK_UNSUPPORTED instead
//! of waiting for its deadline. A 5xx or a timeout stays unknown; a query keeps its meaning.
use kakehashi_paypay::wire;

use super::*;

fn unsupported(network_code: &str) -> PayOutcome {
    PayOutcome::Declined {
        reason: DeclineReason::NetworkUnsupported,
        network_code: network_code.into(),
    }
}

#[tokio::test]
async fn a_paypay_without_the_scan_extension_declines_the_scan_at_once() {
    let w = world().await;
    w.control.add_wallet(&yen_wallet("kenji", 1_000)).unwrap();
    let code = w.control.issue_code("kenji").unwrap();
    w.control.serve_scan_extension(false);

    assert_eq!(
        w.adapter.pay(&scan("U1", 100, &code)).await,
        unsupported("HTTP 404 NOT_FOUND")
    );
    let asked = w.control.wiretap.last(wire::EXT_SCAN_PATH).unwrap();
    assert_eq!(asked.method, "POST", "it did reach PayPay");
    assert!(w.control.payment("U1").is_none());
    assert!(matches!(
        w.adapter.query(&query("U1", 100)).await,
        PayOutcome::Unknown { .. }
    ));
    assert_eq!(w.control.balance("kenji"), Some(1_000));

    // Served again, the same code pays: nothing was used up.
    w.control.serve_scan_extension(true);
    assert!(matches!(
        w.adapter.pay(&scan("U2", 100, &code)).await,
        PayOutcome::Succeeded(_)
    ));
}

#[tokio::test]
async fn every_create_that_reached_no_api_is_final_and_5xx_stays_unknown() {
    let w = world().await;
    w.control.add_wallet(&yen_wallet("aoi", 1_000)).unwrap();
    let astray = adapter_at(&w, &format!("{}/not-paypay", w.sim.base_url));
    let code = w.control.issue_code("aoi").unwrap();
    assert_eq!(
        astray.pay(&scan("U3", 100, &code)).await,
        unsupported("HTTP 404 NOT_FOUND")
    );
    assert_eq!(
        astray.refund(&refund("U3", "U3-R", 100, 100, "pp-1")).await,
        RefundOutcome::Declined {
            reason: DeclineReason::NetworkUnsupported,
            network_code: "HTTP 404 NOT_FOUND".into()
        }
    );
    assert!(matches!(
        astray.create_merchant_qr(&qr("U4", 100)).await,
        Err(kakehashi_adapter_core::AdapterError::Network { .. })
    ));
    assert!(matches!(
        astray.query(&query("U3", 100)).await,
        PayOutcome::Unknown { .. }
    ));

    // A 404 page from a gateway in front of PayPay (no PayPay envelope) is as final; a 5xx
    // is not.
    w.control.inject(
        Some(Operation::Scan),
        Fault::HttpStatus { status: 404 },
        Some(1),
    );
    assert_eq!(
        w.adapter.pay(&scan("U5", 100, &code)).await,
        unsupported("HTTP 404")
    );
    w.control.inject(
        Some(Operation::Scan),
        Fault::HttpStatus { status: 503 },
        Some(1),
    );
    assert!(matches!(
        w.adapter.pay(&scan("U6", 100, &code)).await,
        PayOutcome::Unknown { .. }
    ));
    assert_eq!(w.control.balance("aoi"), Some(1_000));
}
