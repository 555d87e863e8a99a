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
use crate::store::group::Keep;

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
        let p = candidate.payment.clone();
        let transitions = candidate.transitions.to_vec();
        let merchant_category_code = self.merchant(&p.merchant_id)?.category_code.clone();
        let (code_key, route) = match candidate.code {
            Some((code, route)) => (self.inner.compliance.code_key(code), Some(route)),
            None => (None, None),
        };
        let lease = (self.inner.owner.clone(), candidate.lease_until_ms);
        let this = self.clone();
        // One batched write: the velocity counts locked, the decision, and the payment with
        // its lease and log entries, or the refusal's entry alone.
        let admitted = self
            .inner
            .store
            .group()
            .run(move |tx, log| {
                Box::pin(async move {
                    let rules = this.inner.compliance.rules();
                    let observed = velocity::observe_locked(
                        tx,
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
                        merchant_category_code,
                        terminal_id: p.terminal_id.clone(),
                        amount: p.amount,
                        network: p.network.clone(),
                        code: route,
                        velocity: observed,
                    };
                    let decision = evaluate(rules, &input);
                    let logged = facts::routing_decision(&p.payment_id, &p.merchant_id, &decision);
                    if let Some((rule, detail)) = decision.refusal() {
                        log.log(&[logged])?;
                        return Ok(Keep::Commit(Admitted::Refused {
                            rule,
                            detail: detail.to_owned(),
                        }));
                    }
                    velocity::record(
                        tx,
                        code_key.as_ref(),
                        &p.terminal_id,
                        p.created_at_ms,
                        &p.amount,
                    )
                    .await?;
                    let lease = (&lease.0, lease.1);
                    if !crate::store::insert_payment_in(tx, &p, &transitions, lease).await? {
                        return Ok(Keep::Undo(Admitted::Existing));
                    }
                    let mut entries = vec![logged];
                    entries.extend(facts::payment_transitions(&p, &transitions));
                    log.log(&entries)?;
                    Ok(Keep::Commit(Admitted::Inserted))
                })
            })
            .await?;
        if let Admitted::Refused { rule, .. } = &admitted {
            let p = candidate.payment;
            tracing::info!(merchant_id = %p.merchant_id, terminal_id = %p.terminal_id, network = %p.network, rule = rule.as_str(), "Payment refused by a compliance rule");
        }
        Ok(admitted)
    }
}
