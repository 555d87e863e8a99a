//! Admitting a new payment: the compliance decision and the durable AUTHORIZING record in
//! one transaction. The velocity counts the decision reads are locked for the duration, so
//! two payments under one code or terminal count each other; a routed payment is counted,
//! stored, leased and logged in the same commit; a refused one stores nothing but its
//! decision in the audit log, under the payment id it would have had, which the refusal's
//! error names so the integrator and the auditor can find it.
use kakehashi_adapter_core::PaymentCode;

use super::{PayError, Payments};
use crate::audit::facts;
use crate::domain::{PaymentRecord, Transition};
use crate::routing::rules::{CodeRoute, DecisionInput};
use crate::routing::{RuleId, evaluate, velocity};
use crate::store::audit_sql;

/// What became of an admission.
pub(super) enum Admitted {
    /// Stored, AUTHORIZING and leased to this instance.
    Inserted,
    /// Another request with the same order id was stored first; nothing was written.
    Existing,
    /// A compliance rule refused it.
    Refused { rule: RuleId, detail: String },
}

/// A new payment with its first transitions and its first lease, ready to be admitted.
pub(super) struct Candidate<'a> {
    pub payment: &'a PaymentRecord,
    pub transitions: &'a [Transition],
    pub lease_until_ms: i64,
    /// The scanned code and how it was identified; `None` for a merchant-presented QR.
    pub code: Option<(&'a PaymentCode, CodeRoute)>,
}

// === impl Payments ===

impl Payments {
    pub(super) async fn admit(&self, candidate: Candidate<'_>) -> Result<Admitted, PayError> {
        let p = candidate.payment;
        let compliance = &self.inner.compliance;
        let rules = compliance.rules();
        let merchant = self.merchant(&p.merchant_id)?;
        let (code, route) = match candidate.code {
            Some((code, route)) => (Some(code), Some(route)),
            None => (None, None),
        };
        let code_key = code.and_then(|c| compliance.code_key(c));
        let mut tx = self.inner.store.begin().await?;
        let observed = velocity::observe_locked(
            &mut tx,
            rules,
            code_key.as_ref(),
            &p.terminal_id,
            p.created_at_ms,
            p.amount.currency(),
        )
        .await?;
        let input = DecisionInput {
            at_ms: p.created_at_ms,
            merchant_id: p.merchant_id.clone(),
            merchant_category_code: merchant.category_code.clone(),
            terminal_id: p.terminal_id.clone(),
            amount: p.amount,
            network: p.network.clone(),
            code: route,
            velocity: observed,
        };
        let decision = evaluate(rules, &input);
        let logged = facts::routing_decision(&p.payment_id, &p.merchant_id, &decision);
        if let Some((rule, detail)) = decision.refusal() {
            let detail = detail.to_owned();
            audit_sql::append(&mut tx, &[logged]).await?;
            tx.commit().await.map_err(crate::store::StoreError::from)?;
            crate::store::stats::committed();
            crate::store::stats::committed();
            tracing::info!(merchant_id = %p.merchant_id, terminal_id = %p.terminal_id, network = %p.network, rule = rule.as_str(), "Payment refused by a compliance rule");
            return Ok(Admitted::Refused { rule, detail });
        }
        velocity::record(
            &mut tx,
            code_key.as_ref(),
            &p.terminal_id,
            p.created_at_ms,
            &p.amount,
        )
        .await?;
        let lease = (&self.inner.owner, candidate.lease_until_ms);
        if !crate::store::insert_payment_in(&mut tx, p, candidate.transitions, lease).await? {
            tx.rollback()
                .await
                .map_err(crate::store::StoreError::from)?;
            return Ok(Admitted::Existing);
        }
        let mut entries = vec![logged];
        entries.extend(facts::payment_transitions(p, candidate.transitions));
        audit_sql::append(&mut tx, &entries).await?;
        tx.commit().await.map_err(crate::store::StoreError::from)?;
        crate::store::stats::committed();
        Ok(Admitted::Inserted)
    }
}
