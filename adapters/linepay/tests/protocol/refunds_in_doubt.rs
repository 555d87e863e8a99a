//! A LINE Pay refund whose outcome is in doubt, resolved from Payment details: LINE Pay has
//! no refund id, so the adapter finds the refund in the order's `refundList` by amount,
//! skipping refunds the switch already knows.
use super::*;

#[tokio::test]
async fn a_refund_executed_whose_reply_was_lost_is_found_in_payment_details() {
    let w = world().await;
    paid_order(&w, "D1", "1000", 1_000).await;
    w.control
        .inject(Some(Operation::Refund), Fault::HangAfterProcessing, Some(1));

    let request = refund_known("D1", "R1", "1000", "300", &[]);
    assert!(matches!(
        w.adapter.refund(&request).await,
        RefundOutcome::Unknown { .. }
    ));
    assert_eq!(w.control.balance("wallet-D1"), Some(yen(300)), "refunded");

    let booked = booked_refunds(&w, "D1");
    assert_eq!(booked.len(), 1);
    assert_eq!(
        w.adapter.query_refund(&request).await,
        RefundOutcome::Succeeded {
            network_refund_id: booked[0].clone()
        }
    );
}

#[tokio::test]
async fn a_refund_lost_on_the_way_in_is_not_taken_and_a_resend_refunds_once() {
    let w = world().await;
    paid_order(&w, "D2", "1000", 1_000).await;
    w.control
        .inject(Some(Operation::Refund), Fault::Hang, Some(1));

    let request = refund_known("D2", "R1", "1000", "1000", &[]);
    assert!(matches!(
        w.adapter.refund(&request).await,
        RefundOutcome::Unknown { .. }
    ));
    assert!(booked_refunds(&w, "D2").is_empty());
    assert!(matches!(
        w.adapter.query_refund(&request).await,
        RefundOutcome::NotTaken { .. }
    ));

    let RefundOutcome::Succeeded { network_refund_id } = w.adapter.refund(&request).await else {
        panic!("the re-sent refund failed");
    };
    assert_eq!(booked_refunds(&w, "D2"), vec![network_refund_id.clone()]);
    assert_eq!(w.control.balance("wallet-D2"), Some(yen(1_000)));
    assert_eq!(
        w.adapter.query_refund(&request).await,
        RefundOutcome::Succeeded { network_refund_id },
        "asked again, the same refund"
    );
}

#[tokio::test]
async fn a_known_refund_is_never_matched_to_a_second_equal_refund() {
    let w = world().await;
    paid_order(&w, "D3", "1000", 1_000).await;
    let first = refund_known("D3", "R1", "1000", "200", &[]);
    let RefundOutcome::Succeeded {
        network_refund_id: first_id,
    } = w.adapter.refund(&first).await
    else {
        panic!("first refund failed");
    };

    // A second refund of the same amount is lost after LINE Pay booked it.
    w.control
        .inject(Some(Operation::Refund), Fault::HangAfterProcessing, Some(1));
    let second = refund_known("D3", "R2", "1000", "200", &[&first_id]);
    assert!(matches!(
        w.adapter.refund(&second).await,
        RefundOutcome::Unknown { .. }
    ));
    let RefundOutcome::Succeeded {
        network_refund_id: second_id,
    } = w.adapter.query_refund(&second).await
    else {
        panic!("the second refund was not found");
    };
    assert_ne!(second_id, first_id);
    assert_eq!(
        booked_refunds(&w, "D3"),
        [first_id.clone(), second_id.clone()]
    );

    // A third equal refund lost on the way in: both listed refunds are known, so it is
    // not taken, rather than mistaken for one of them.
    w.control
        .inject(Some(Operation::Refund), Fault::Hang, Some(1));
    let third = refund_known("D3", "R3", "1000", "200", &[&first_id, &second_id]);
    assert!(matches!(
        w.adapter.refund(&third).await,
        RefundOutcome::Unknown { .. }
    ));
    assert!(matches!(
        w.adapter.query_refund(&third).await,
        RefundOutcome::NotTaken { .. }
    ));
    assert_eq!(w.control.balance("wallet-D3"), Some(yen(400)));
}

#[tokio::test]
async fn payment_details_that_cannot_be_read_leave_the_refund_unknown() {
    let w = world().await;
    paid_order(&w, "D4", "1000", 1_000).await;
    let request = refund_known("D4", "R1", "1000", "100", &[]);
    for fault in [
        Fault::HttpStatus { status: 503 },
        Fault::Garbled,
        Fault::Hang,
        Fault::Decline {
            code: "9000".into(),
        },
    ] {
        w.control
            .inject(Some(Operation::Details), fault.clone(), Some(1));
        assert!(
            matches!(
                w.adapter.query_refund(&request).await,
                RefundOutcome::Unknown { .. }
            ),
            "{fault:?}"
        );
    }
    // An order LINE Pay does not know (1150) proves nothing about a refund either.
    assert!(matches!(
        w.adapter
            .query_refund(&refund_known("NOPE", "R1", "1000", "100", &[]))
            .await,
        RefundOutcome::Unknown { .. }
    ));
    assert!(matches!(
        w.adapter.query_refund(&request).await,
        RefundOutcome::NotTaken { .. }
    ));
}

#[tokio::test]
async fn the_simulator_serves_payment_details_only_as_line_pay_does() {
    let w = world().await;
    paid_order(&w, "D5", "1000", 1_000).await;
    let RefundOutcome::Succeeded { network_refund_id } = w
        .adapter
        .refund(&refund_known("D5", "R1", "1000", "250", &[]))
        .await
    else {
        panic!("refund failed");
    };
    let code = |v: &serde_json::Value| v["returnCode"].as_str().unwrap().to_owned();
    let path = wire::DETAILS_PATH;

    let found = raw_get(&w.sim, path, "orderId=D5", "d-1", SIM_CHANNEL_SECRET).await;
    assert_eq!(code(&found), "0000");
    let payment = &found["info"][0];
    assert_eq!(payment["orderId"], "D5");
    assert_eq!(payment["currency"], "JPY");
    let listed = &payment["refundList"][0];
    assert_eq!(listed["refundAmount"], -250, "refunds are listed negative");
    assert_eq!(listed["transactionType"], "PARTIAL_REFUND");
    // The 19-digit id travels as a JSON number; compare its text, never a float.
    let text = serde_json::to_string(&listed["refundTransactionId"]).unwrap();
    assert_eq!(text, network_refund_id);
    let transaction = w.control.order("D5").unwrap().transaction_id.to_string();
    let by_both = format!("orderId=D5&transactionId={transaction}");
    assert_eq!(
        code(&raw_get(&w.sim, path, &by_both, "d-2", SIM_CHANNEL_SECRET).await),
        "0000"
    );

    for (query, nonce, secret, want) in [
        ("orderId=D5", "d-3", "not-the-secret", "1106"),
        ("orderId=D5", "d-1", SIM_CHANNEL_SECRET, "1106"),
        ("orderId=NOPE", "d-4", SIM_CHANNEL_SECRET, "1150"),
        (
            "orderId=D5&transactionId=2026000000000000000",
            "d-5",
            SIM_CHANNEL_SECRET,
            "1150",
        ),
        ("", "d-6", SIM_CHANNEL_SECRET, "2101"),
        ("orderId=D5&orderId=D5", "d-7", SIM_CHANNEL_SECRET, "2101"),
        ("orderId=D5&fields=ALL", "d-8", SIM_CHANNEL_SECRET, "2101"),
        ("orderId=%ZZ", "d-9", SIM_CHANNEL_SECRET, "2101"),
    ] {
        let reply = raw_get(&w.sim, path, query, nonce, secret).await;
        assert_eq!(
            code(&reply),
            want,
            "{query} signed by {secret}, nonce {nonce}"
        );
    }

    // Another region's channel cannot see this order.
    let taiwan = w
        .control
        .channel(iso_currency::Currency::TWD)
        .unwrap()
        .clone();
    let signature = sign::signature(&taiwan.secret, path, b"orderId=D5", "d-10");
    let reply: serde_json::Value = reqwest::Client::new()
        .get(format!("{}{path}?orderId=D5", w.sim.base_url))
        .header("X-LINE-ChannelId", &taiwan.id)
        .header("X-LINE-Authorization-Nonce", "d-10")
        .header("X-LINE-Authorization", signature)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(code(&reply), "1150");
}
