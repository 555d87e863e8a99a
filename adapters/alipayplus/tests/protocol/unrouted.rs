//! A request no Alipay+ API took was not processed: HTTP 404/405 from the layer in front of
//! Alipay+, or Alipay+'s own `INVALID_API` / `METHOD_NOT_SUPPORTED`. A pay or refund is
//! declined at once as NETWORK_UNSUPPORTED; an inquiry or cancel keeps its meaning.
use kakehashi_alipayplus::wire;

use super::*;

#[tokio::test]
async fn a_pay_that_reached_no_api_is_declined_at_once() {
    let w = world().await;
    w.control
        .add_wallet(&wallet("u", Member::AlipayCn, 1_000_000, None))
        .unwrap();
    let code = w.control.issue_code("u").unwrap();
    let astray = adapter_at(&w, &format!("{}/not-alipay-plus", w.sim.base_url));
    let unsupported = |network_code: &str| PayOutcome::Declined {
        reason: DeclineReason::NetworkUnsupported,
        network_code: network_code.into(),
    };

    assert_eq!(
        astray.pay(&pay("U1", "100", &code)).await,
        unsupported("HTTP 404")
    );
    assert_eq!(
        astray.refund(&refund("U1", "U1-R", "100", "100")).await,
        RefundOutcome::Declined {
            reason: DeclineReason::NetworkUnsupported,
            network_code: "HTTP 404".into()
        }
    );
    assert!(matches!(
        astray.query(&query("U1")).await,
        PayOutcome::Unknown { .. }
    ));
    assert!(matches!(
        astray.reverse(&reverse("U1")).await,
        ReverseOutcome::Retry { .. }
    ));
    assert!(w.control.payment("U1").is_none());

    // Alipay+ naming the API unknown is as final.
    w.control.inject(
        Some(Operation::Pay),
        Fault::Decline {
            code: "INVALID_API".into(),
        },
        Some(1),
    );
    assert_eq!(
        w.adapter.pay(&pay("U2", "100", &code)).await,
        unsupported("INVALID_API")
    );
    // The code is still good for the real API.
    assert!(matches!(
        w.adapter.pay(&pay("U3", "100", &code)).await,
        PayOutcome::Succeeded(_)
    ));
}

#[tokio::test]
async fn the_simulator_names_apis_and_methods_it_does_not_offer() {
    let w = world().await;
    let body = r#"{"paymentRequestId":"X"}"#;
    let reply = signed_post(&w, "/aps/api/v1/payments/payLater", body).await;
    assert_eq!(result(&reply), ("F".into(), "INVALID_API".into()));

    let reply: serde_json::Value = reqwest::Client::new()
        .get(format!("{}{}", w.sim.base_url, wire::INQUIRY_PATH))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(result(&reply), ("F".into(), "METHOD_NOT_SUPPORTED".into()));

    let elsewhere = reqwest::get(format!("{}/elsewhere", w.sim.base_url))
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), reqwest::StatusCode::NOT_FOUND);
}
