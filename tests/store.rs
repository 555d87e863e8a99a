//! The store against real SQLite and real PostgreSQL: the same behaviour from both.
use std::str::FromStr;

use kakehashi::domain::{
    ClientKey, PaymentKind, PaymentRecord, PaymentState, RefundRecord, RefundState, Transition,
};
use kakehashi::store::{
    InsertPayment, InsertRefund, LeaseOwner, MerchantRow, SqlStore, Store, StoreError, TerminalRow,
};
use kakehashi_adapter_core::Money;

mod support;

fn owner(name: &str) -> LeaseOwner {
    LeaseOwner::new(name, "boot1")
}

fn payment(id: &str, order: &str, amount: &str) -> PaymentRecord {
    PaymentRecord {
        payment_id: id.into(),
        merchant_id: "m1".into(),
        terminal_id: "t1".into(),
        merchant_order_id: ClientKey::parse(order).unwrap(),
        request_hash: "h".into(),
        kind: PaymentKind::CustomerPresented,
        amount: Money::parse(amount, "JPY").unwrap(),
        description: String::new(),
        code_masked: "••••1234".into(),
        network: "linepay".into(),
        state: PaymentState::Authorizing,
        wallet_brand: None,
        decline_reason: None,
        network_code: None,
        network_txn_id: None,
        wallet_amount: None,
        settlement_quote: None,
        qr_payload: None,
        fx_quote_id: None,
        refunded_minor: 0,
        refund_reserved_minor: 0,
        created_at_ms: 1,
        updated_at_ms: 1,
        deadline_at_ms: 100,
        reverse_attempts: 0,
        version: 1,
    }
}

fn refund(id: &str, key: &str, payment_id: &str, amount: &str) -> RefundRecord {
    RefundRecord {
        send_count: 0,
        refund_id: id.into(),
        merchant_id: "m1".into(),
        merchant_refund_id: ClientKey::parse(key).unwrap(),
        payment_id: payment_id.into(),
        request_hash: "r".into(),
        amount: Money::parse(amount, "JPY").unwrap(),
        reason: String::new(),
        state: RefundState::Pending,
        network_refund_id: None,
        decline_reason: None,
        network_code: None,
        created_at_ms: 2,
        updated_at_ms: 2,
    }
}

fn first_transitions() -> Vec<Transition> {
    vec![Transition {
        seq: 1,
        from: None,
        to: PaymentState::Authorizing,
        detail: "t".into(),
        at_ms: 1,
    }]
}

async fn exercise(store: &SqlStore) {
    store
        .sync_merchants(
            &[MerchantRow {
                merchant_id: "m1".into(),
                name: "M".into(),
                category_code: "5812".into(),
            }],
            &[TerminalRow {
                terminal_id: "t1".into(),
                merchant_id: "m1".into(),
                store_id: "s".into(),
            }],
        )
        .await
        .unwrap();
    let p = payment("pay1", "order-1", "1000");
    assert_eq!(
        store
            .insert_payment(&p, &first_transitions(), &owner("test"), 0)
            .await
            .unwrap(),
        InsertPayment::Inserted
    );
    // The same order id again: the stored payment comes back, nothing new is written.
    let again = payment("pay2", "order-1", "999");
    match store
        .insert_payment(&again, &first_transitions(), &owner("test"), 0)
        .await
        .unwrap()
    {
        InsertPayment::Existing(existing) => assert_eq!(*existing, p),
        other => panic!("expected Existing, got {other:?}"),
    }
    assert!(store.payment("pay2").await.unwrap().is_none());

    // Optimistic versions: a stale write is refused.
    let mut next = p.clone();
    next.state = PaymentState::Succeeded;
    next.version = 2;
    let t = Transition {
        seq: 2,
        from: Some(PaymentState::Authorizing),
        to: PaymentState::Succeeded,
        detail: "ok".into(),
        at_ms: 3,
    };
    store
        .update_payment(&next, Some(&t), &kakehashi::store::Effects::none())
        .await
        .unwrap();
    assert!(matches!(
        store
            .update_payment(&next, Some(&t), &kakehashi::store::Effects::none())
            .await,
        Err(StoreError::Conflict) | Err(StoreError::Database(_))
    ));
    assert_eq!(
        store.payment("pay1").await.unwrap().unwrap().state,
        PaymentState::Succeeded
    );
    assert_eq!(store.transitions("pay1").await.unwrap().len(), 2);

    // Refund reservations never exceed the amount.
    assert_eq!(
        store
            .insert_refund(&refund("r1", "ref-1", "pay1", "600"), (&owner("test"), 0))
            .await
            .unwrap(),
        InsertRefund::Inserted
    );
    assert_eq!(
        store
            .insert_refund(&refund("r2", "ref-2", "pay1", "500"), (&owner("test"), 0))
            .await
            .unwrap(),
        InsertRefund::NotRefundable
    );
    assert!(matches!(
        store
            .insert_refund(&refund("r3", "ref-1", "pay1", "600"), (&owner("test"), 0))
            .await
            .unwrap(),
        InsertRefund::Existing(_)
    ));
    let reserved = store.payment("pay1").await.unwrap().unwrap();
    assert_eq!(reserved.refund_reserved_minor, 600);
    assert_eq!(
        store
            .pending_refunds(&owner("x"), 10, "", 10)
            .await
            .unwrap()
            .len(),
        1
    );
    // Refunds are leased like payments: a held lease hides it from recovery, and the send
    // count only moves for the holder.
    let (a, b) = (owner("a"), owner("b"));
    assert!(store.take_refund_lease("r1", &a, 10, 500).await.unwrap());
    assert!(!store.take_refund_lease("r1", &b, 20, 600).await.unwrap());
    assert!(
        store
            .pending_refunds(&b, 20, "", 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.count_refund_send("r1", &b).await.unwrap(), None);
    assert_eq!(store.count_refund_send("r1", &a).await.unwrap(), Some(1));
    assert_eq!(store.count_refund_send("r1", &a).await.unwrap(), Some(2));
    store.release_refund_lease("r1", &a).await.unwrap();
    let pending = store.pending_refunds(&b, 20, "", 10).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].send_count, 2, "counted durably");

    // Leases: one owner at a time until expiry.
    let (a, b) = (owner("a"), owner("b"));
    assert!(store.take_lease("pay1", &a, 10, 20).await.unwrap());
    assert!(!store.take_lease("pay1", &b, 15, 25).await.unwrap());
    assert!(store.take_lease("pay1", &b, 21, 30).await.unwrap());
    // The holder's lease never shrinks: a call it has open may rely on it.
    assert!(store.take_lease("pay1", &b, 22, 100).await.unwrap());
    assert!(store.take_lease("pay1", &b, 23, 40).await.unwrap());
    assert!(!store.take_lease("pay1", &a, 60, 70).await.unwrap());
    // A restarted process (same name, new boot) takes its dead boot's lease at once...
    let b_restarted = LeaseOwner::new("b", "boot2");
    assert!(
        store
            .take_lease("pay1", &b_restarted, 61, 80)
            .await
            .unwrap()
    );
    // ...and a released lease is free for anyone.
    store.release_lease("pay1", &a).await.unwrap();
    assert!(
        !store.take_lease("pay1", &a, 62, 90).await.unwrap(),
        "only its owner releases it"
    );
    store.release_lease("pay1", &b_restarted).await.unwrap();
    assert!(store.take_lease("pay1", &a, 63, 90).await.unwrap());

    // In doubt: only unresolved payments whose lease expired.
    let doubtful = payment("pay3", "order-3", "100");
    store
        .insert_payment(&doubtful, &first_transitions(), &owner("test"), 0)
        .await
        .unwrap();
    let found = store
        .payments_in_doubt(&owner("x"), 50, "", 10)
        .await
        .unwrap();
    assert_eq!(
        found
            .iter()
            .map(|p| p.payment_id.as_str())
            .collect::<Vec<_>>(),
        vec!["pay3"]
    );

    // A new payment is born leased to the instance that will send it: recovery (here or on
    // another instance) cannot take it over before the lease runs out.
    let fresh = payment("pay4", "order-4", "100");
    store
        .insert_payment(&fresh, &first_transitions(), &owner("inst-a"), 1_000)
        .await
        .unwrap();
    let ids = |found: Vec<kakehashi::domain::PaymentRecord>| {
        found.into_iter().map(|p| p.payment_id).collect::<Vec<_>>()
    };
    assert_eq!(
        ids(store
            .payments_in_doubt(&owner("x"), 999, "", 10)
            .await
            .unwrap()),
        vec!["pay3"]
    );
    assert!(
        !store
            .take_lease("pay4", &owner("inst-b"), 999, 2_000)
            .await
            .unwrap()
    );
    assert!(
        store
            .take_lease("pay4", &owner("inst-a"), 999, 2_000)
            .await
            .unwrap()
    );
    assert_eq!(
        ids(store
            .payments_in_doubt(&owner("x"), 2_001, "", 10)
            .await
            .unwrap()),
        vec!["pay3", "pay4"]
    );
    // A restarted inst-a sees its dead boot's payments in doubt before their leases end.
    assert_eq!(
        ids(store
            .payments_in_doubt(&LeaseOwner::new("inst-a", "boot2"), 999, "", 10)
            .await
            .unwrap()),
        vec!["pay3", "pay4"]
    );
    // Recovery pages: after "pay3" comes only "pay4".
    assert_eq!(
        ids(store
            .payments_in_doubt(&owner("x"), 2_001, "pay3", 10)
            .await
            .unwrap()),
        vec!["pay4"]
    );
}

#[tokio::test]
async fn sqlite_store_keeps_its_promises() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("k.db").display());
    let store = SqlStore::connect(&url).await.unwrap();
    exercise(&store).await;
    // Reopening applies no migration twice and sees the same data.
    drop(store);
    let store = SqlStore::connect(&url).await.unwrap();
    assert!(store.payment("pay1").await.unwrap().is_some());
}

#[tokio::test]
async fn postgres_store_keeps_its_promises() {
    let Some(url) = support::postgres::fresh_database("store").await else {
        return;
    };
    let store = SqlStore::connect(&url).await.unwrap();
    exercise(&store).await;
}

#[test]
fn money_columns_round_trip_exactly() {
    let m = Money::parse("12.30", "CNY").unwrap();
    assert_eq!(m.value_string(), "12.30");
    assert_eq!(
        rust_decimal::Decimal::from_str(&m.value_string()).unwrap(),
        m.amount()
    );
}
